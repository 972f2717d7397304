package shepherdbench;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZKUtil;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * Where one run works: a node {@code /shepherd-bench/java-<mode>-<random>} (beside zk-bench's own
 * runs) created by {@link #start()} and removed with everything under it by {@link #close()}, and
 * every session the run opened, closed there too. A JVM shutdown hook does the same when the run is
 * terminated (zk-bench's Ctrl-C, a timeout), so the server is left clean either way.
 */
final class Workspace implements AutoCloseable {
    static final String PARENT = "/shepherd-bench";

    final String connect;
    final int sessionTimeoutMs;
    final int connectionTimeoutMs;
    final String base;
    private final List<AutoCloseable> sessions = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private ZooKeeper admin;

    /** Reads the common options; connects nothing yet (a mode checks its own options first). */
    Workspace(String mode, Options options) {
        connect = options.text("connect", null);
        sessionTimeoutMs = options.whole("session-timeout-ms", 10_000, 100, 600_000);
        connectionTimeoutMs = options.whole("connection-timeout-ms", 5_000, 100, 600_000);
        base = PARENT + "/java-" + mode + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Connects the admin session and creates the run's node. */
    void start() throws Exception {
        Runtime.getRuntime().addShutdownHook(new Thread(this::closeWithin5Seconds, "shepherd-bench-cleanup"));
        admin = zooKeeper();
        for (String path : new String[] {PARENT, base}) {
            try {
                admin.create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            } catch (KeeperException.NodeExistsException shared) {
                // the parent is shared by every run
            }
        }
    }

    /** A new session on Apache's client, connected before it is returned. */
    ZooKeeper zooKeeper() throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, sessionTimeoutMs, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        remember(zk);
        if (!connected.await(connectionTimeoutMs, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("no connection to " + connect + " within " + connectionTimeoutMs + " ms");
        }
        return zk;
    }

    /** A new Curator client (its own session), connected before it is returned. */
    CuratorFramework curator() throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(sessionTimeoutMs)
                .connectionTimeoutMs(connectionTimeoutMs)
                .retryPolicy(new ExponentialBackoffRetry(100, 3))
                .build();
        remember(client);
        client.start();
        if (!client.blockUntilConnected(connectionTimeoutMs, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("Curator: no connection to " + connect + " within " + connectionTimeoutMs + " ms");
        }
        return client;
    }

    List<CuratorFramework> curators(int count) throws Exception {
        List<CuratorFramework> clients = new ArrayList<>();
        for (int i = 0; i < count; i++) clients.add(curator());
        return clients;
    }

    private synchronized void remember(AutoCloseable session) { sessions.add(session); }

    /** Closes the run's sessions (newest first; closing one twice is harmless), then removes its node. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        List<AutoCloseable> opened;
        synchronized (this) { opened = new ArrayList<>(sessions); }
        for (int i = opened.size() - 1; i >= 0; i--) {
            if (opened.get(i) == admin) continue;
            try {
                opened.get(i).close();
            } catch (Exception ignored) {
                // a session the run closed itself (leader mode) or one that never connected
            }
        }
        if (admin == null) return;
        try {
            ZKUtil.deleteRecursive(admin, base);
        } catch (KeeperException.NoNodeException gone) {
            // never created
        } catch (Exception e) {
            System.err.println("shepherd-bench-java: removing " + base + " failed: " + e);
        }
        try {
            admin.close();
        } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
        }
    }

    /** Set by the shutdown hook: failures from sessions closed under the workers are expected then. */
    static volatile boolean terminating;

    /** The shutdown hook: a dead server must not keep a terminated run alive, so the cleanup is bounded. */
    private void closeWithin5Seconds() {
        terminating = true;
        Thread cleanup = new Thread(this::close, "shepherd-bench-cleanup-worker");
        cleanup.setDaemon(true);
        cleanup.start();
        try {
            cleanup.join(5_000);
        } catch (InterruptedException ignored) {
            // exiting anyway
        }
    }
}
