package dev.ipg.core.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bounded pool of worker threads, owned and closed by whoever creates it. {@link #forRange}
 * splits an index range into contiguous chunks; each index is processed by exactly one task, so
 * results never depend on the thread count.
 */
public final class Parallel implements AutoCloseable {

    /** Processes indices {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    private final int threads;
    private final ExecutorService executor;

    private Parallel(int threads) {
        this.threads = threads;
        if (threads > 1) {
            AtomicInteger n = new AtomicInteger();
            this.executor = Executors.newFixedThreadPool(threads - 1, r -> {
                Thread t = new Thread(r, "ipg-worker-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        } else {
            this.executor = null;
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
        int g = Math.max(1, grain);
        int units = (n + g - 1) / g;
        int chunks = Math.min(threads, units);
        if (chunks <= 1 || executor == null) {
            task.run(0, n);
            return;
        }
        List<Future<?>> futures = new ArrayList<>(chunks - 1);
        int[] bounds = new int[chunks + 1];
        for (int c = 0; c <= chunks; c++) {
            bounds[c] = Math.min(n, (int) ((long) units * c / chunks) * g);
        }
        bounds[chunks] = n;
        for (int c = 1; c < chunks; c++) {
            int from = bounds[c];
            int to = bounds[c + 1];
            futures.add(executor.submit(() -> task.run(from, to)));
        }
        RuntimeException first = null;
        try {
            task.run(bounds[0], bounds[1]);
        } catch (RuntimeException e) {
            first = e;
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (first == null) {
                    first = e.getCause() instanceof RuntimeException re ? re : new RuntimeException(e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (first == null) {
                    first = new RuntimeException("interrupted", e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
