package dev.ipg.core.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bounded pool of worker threads, owned and closed by whoever creates it. {@link #forRange}
 * splits an index range into contiguous chunks; each index is processed by exactly one task, so
 * results never depend on the thread count.
 *
 * <p>A decode step runs hundreds of small kernels, so hand-off latency matters more than
 * throughput: workers spin briefly on a generation counter before parking, and the caller runs the
 * first chunk itself. A {@code forRange} issued while the pool is busy (from inside a task, or by
 * a second thread) runs serially on its caller instead of waiting.
 */
public final class Parallel implements AutoCloseable {

    /** Processes indices {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    /** Spin iterations before a waiting thread parks (some tens of microseconds). */
    private static final int SPINS = 1 << 11;

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock busy = new ReentrantLock();

    // The current job, published by the write to generation and read after reading it.
    private RangeTask task;
    private int[] bounds;
    private volatile int generation;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Throwable failure;
    private volatile Thread waiter;
    private volatile boolean closed;

    private Parallel(int threads) {
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int chunk = i + 1;
            Thread t = new Thread(() -> work(chunk), "ipg-worker-" + chunk);
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    /** A pool of {@code threads} threads (the caller's thread counts as one). */
    public static Parallel of(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        return new Parallel(threads);
    }

    /** A pool sized to the machine's available processors. */
    public static Parallel machine() {
        return of(Runtime.getRuntime().availableProcessors());
    }

    /** A single-threaded pool: everything runs on the caller. */
    public static Parallel serial() {
        return of(1);
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task} over {@code [0, n)} split into at most {@code threads} contiguous chunks
     * whose boundaries are multiples of {@code grain} (except the last). Blocks until done;
     * rethrows the first failure.
     */
    public void forRange(int n, int grain, RangeTask task) {
        if (n <= 0) {
            return;
        }
        if (closed) {
            throw new IllegalStateException("pool is closed");
        }
        int g = Math.max(1, grain);
        int units = (n + g - 1) / g;
        int chunks = Math.min(threads, units);
        if (chunks <= 1 || busy.isHeldByCurrentThread() || !busy.tryLock()) {
            task.run(0, n);
            return;
        }
        try {
            int[] b = new int[threads + 1];
            for (int c = 0; c <= chunks; c++) {
                b[c] = Math.min(n, (int) ((long) units * c / chunks) * g);
            }
            for (int c = chunks; c <= threads; c++) {
                b[c] = n; // workers past the last chunk get an empty range
            }
            this.task = task;
            this.bounds = b;
            this.failure = null;
            this.waiter = Thread.currentThread();
            pending.set(workers.length);
            generation++; // publishes task and bounds
            for (Thread t : workers) {
                LockSupport.unpark(t);
            }
            Throwable first = null;
            try {
                task.run(b[0], b[1]);
            } catch (Throwable e) {
                first = e;
            }
            awaitWorkers();
            this.task = null;
            if (first == null) {
                first = failure;
            }
            if (first instanceof RuntimeException re) {
                throw re;
            }
            if (first instanceof Error err) {
                throw err;
            }
            if (first != null) {
                throw new RuntimeException(first);
            }
        } finally {
            busy.unlock();
        }
    }

    private void awaitWorkers() {
        int spins = 0;
        while (pending.get() > 0) {
            if (spins < SPINS) {
                spins++;
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, 50_000);
            }
        }
    }

    private void work(int chunk) {
        int seen = 0;
        while (true) {
            int spins = 0;
            int gen;
            while ((gen = generation) == seen && !closed) {
                if (spins < SPINS) {
                    spins++;
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (closed) {
                return;
            }
            seen = gen;
            int from = bounds[chunk];
            int to = bounds[chunk + 1];
            try {
                if (from < to) {
                    task.run(from, to);
                }
            } catch (Throwable e) {
                if (failure == null) {
                    failure = e;
                }
            } finally {
                if (pending.decrementAndGet() == 0) {
                    LockSupport.unpark(waiter);
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
    }
}
