package shepherdbench;

import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The timed shape of the lock modes, as zk-bench's {@code LockWindow}: workers loop for --warmup
 * seconds unmeasured, then --seconds measured; a cycle counts when it ends inside the measured
 * window. A failing worker ends the window at once and its failure is rethrown.
 */
final class Window {
    /** Longest one acquire may wait before it counts as an error (zk-bench's {@code acquireTimeout}). */
    static final long ACQUIRE_TIMEOUT_S = 30;

    interface Worker {
        void run(int index) throws Exception;
    }

    private final double warmup;
    private final double seconds;
    private final CountDownLatch aborted = new CountDownLatch(1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean measuring;
    private volatile boolean stopping;
    private long start;
    private long end;

    Window(Options options) {
        seconds = options.decimal("seconds", 5, 0.1, 3600);
        warmup = options.decimal("warmup", 1, 0, 3600);
    }

    boolean measuring() { return measuring; }

    boolean stopping() { return stopping; }

    double rate(long count) {
        double elapsed = (end - start) / 1e9;
        return elapsed > 0 ? Latencies.round(count / elapsed) : 0;
    }

    /** Runs {@code workers} threads for the window; each loops until {@link #stopping()}. */
    void run(int workers, Worker body) throws Exception {
        Thread[] threads = new Thread[workers];
        for (int i = 0; i < workers; i++) {
            int index = i;
            threads[i] = new Thread(() -> {
                try {
                    body.run(index);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                    stopping = true;
                    aborted.countDown();
                }
            }, "worker-" + i);
            threads[i].start();
        }
        if (!aborted.await(nanos(warmup), TimeUnit.NANOSECONDS)) {
            start = System.nanoTime();
            measuring = true;
            aborted.await(nanos(seconds), TimeUnit.NANOSECONDS);
            measuring = false;
            end = System.nanoTime();
        }
        stopping = true;
        // A worker finishes its cycle; an acquire may wait out its own timeout first.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2 * ACQUIRE_TIMEOUT_S + 10);
        for (Thread thread : threads) {
            thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (thread.isAlive()) {
                StackTraceElement[] stack = thread.getStackTrace();
                throw new IllegalStateException(thread.getName() + " did not stop, at "
                        + Arrays.toString(Arrays.copyOf(stack, Math.min(8, stack.length))), failure.get());
            }
        }
        if (failure.get() != null) throw new IllegalStateException("a worker failed", failure.get());
    }

    private static long nanos(double seconds) { return (long) (seconds * 1e9); }
}
