package shepherdbench;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The in-memory witness of what a lock promises, independent of the lock: a writer does a
 * non-atomic read, yield, write of a shared counter, so two writers inside at once show up as an
 * overlap or as a lost increment; a reader checks that no writer is inside.
 */
final class Exclusion {
    /** A writer's weight in {@link #inside}; readers count 1 each. */
    private static final int WRITER = 1 << 20;

    private final AtomicInteger inside = new AtomicInteger();
    private final AtomicLong increments = new AtomicLong();
    private final AtomicLong overlaps = new AtomicLong();
    private volatile long counter;

    void write() {
        if (inside.getAndAdd(WRITER) != 0) overlaps.incrementAndGet();
        long seen = counter;
        Thread.yield(); // widens the window a second holder would fall into
        counter = seen + 1;
        increments.incrementAndGet();
        inside.addAndGet(-WRITER);
    }

    void read() {
        if (inside.getAndIncrement() >= WRITER) overlaps.incrementAndGet();
        Thread.yield();
        inside.decrementAndGet();
    }

    /** Overlaps seen plus increments lost. */
    long violations() { return overlaps.get() + (increments.get() - counter); }
}
