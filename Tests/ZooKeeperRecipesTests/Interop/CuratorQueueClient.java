import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;

/**
 * Curator 5.4's DistributedQueue of UTF-8 strings, for the Swift queue interop test.
 *
 * Usage: CuratorQueueClient <connectString> <queuePath> produce <n>   puts "java-0" … "java-(n-1)", then "done"
 *        CuratorQueueClient <connectString> <queuePath> consume <n>   prints "item <text>" per item taken, in
 *                                                                     order, then "done"; exit 4 if fewer than
 *                                                                     n items came within 30 s
 */
public final class CuratorQueueClient {
    static final QueueSerializer<String> UTF8 = new QueueSerializer<String>() {
        public byte[] serialize(String item) { return item.getBytes(StandardCharsets.UTF_8); }
        public String deserialize(byte[] bytes) { return new String(bytes, StandardCharsets.UTF_8); }
    };

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: CuratorQueueClient <connectString> <queuePath> produce|consume <n>");
            System.exit(2);
        }
        String connect = args[0], path = args[1], mode = args[2];
        int count = Integer.parseInt(args[3]);
        try (CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(connect).sessionTimeoutMs(10000).connectionTimeoutMs(10000)
                .retryPolicy(new RetryNTimes(5, 100)).build()) {
            client.start();
            if (!client.blockUntilConnected(20, TimeUnit.SECONDS)) {
                System.err.println("could not connect to " + connect);
                System.exit(3);
            }
            if (mode.equals("produce")) {
                DistributedQueue<String> queue = QueueBuilder.builder(client, null, UTF8, path)
                        .putInBackground(false).buildQueue();
                queue.start();
                for (int i = 0; i < count; i++) queue.put("java-" + i);
                queue.close();
            } else {
                List<String> taken = new ArrayList<>();
                CountDownLatch all = new CountDownLatch(count);
                QueueConsumer<String> consumer = new QueueConsumer<String>() {
                    public void consumeMessage(String message) {
                        synchronized (taken) { taken.add(message); }
                        all.countDown();
                    }
                    public void stateChanged(CuratorFramework c, ConnectionState state) {}
                };
                DistributedQueue<String> queue = QueueBuilder.builder(client, consumer, UTF8, path).buildQueue();
                queue.start();
                boolean complete = all.await(30, TimeUnit.SECONDS);
                queue.close();
                synchronized (taken) { for (String item : taken) System.out.println("item " + item); }
                if (!complete) {
                    System.out.println("only " + taken.size() + " of " + count);
                    System.exit(4);
                }
            }
            System.out.println("done");
        }
    }
}
