package dev.ipg.core.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The pool covers every index exactly once, on grain boundaries, and reports failures. */
class ParallelTest {

    @Test
    void everyIndexRunsExactlyOnceOnGrainBoundaries() {
        for (int threads = 1; threads <= 4; threads++) {
            try (Parallel p = Parallel.of(threads)) {
                for (int n : new int[] {1, 2, 5, 64, 1000, 1001}) {
                    for (int grain : new int[] {1, 3, 16}) {
                        int[] hits = new int[n];
                        AtomicInteger tasks = new AtomicInteger();
                        int g = grain;
                        int size = n;
                        p.forRange(n, grain, (from, to) -> {
                            tasks.incrementAndGet();
                            assertEquals(0, from % g, "chunk start off grain");
                            assertTrue(to == size || to % g == 0, "chunk end off grain");
                            for (int i = from; i < to; i++) {
                                hits[i]++;
                            }
                        });
                        int[] ones = new int[n];
                        java.util.Arrays.fill(ones, 1);
                        assertArrayEquals(ones, hits, "threads=" + threads + " n=" + n + " grain=" + grain);
                        assertTrue(tasks.get() <= threads);
                    }
                }
            }
        }
    }

    @Test
    void manyConsecutiveCallsAndNestedCallsComplete() {
        try (Parallel p = Parallel.of(2)) {
            long[] sum = new long[1];
            for (int r = 0; r < 2000; r++) {
                long[] part = new long[2];
                p.forRange(100, 1, (from, to) -> {
                    // a nested call runs serially on the calling thread
                    long[] inner = new long[1];
                    p.forRange(to - from, 1, (a, b) -> inner[0] += b - a);
                    part[from == 0 ? 0 : 1] += inner[0];
                });
                sum[0] += part[0] + part[1];
            }
            assertEquals(2000L * 100, sum[0]);
        }
    }

    @Test
    void failureInAWorkerIsRethrownToTheCaller() {
        try (Parallel p = Parallel.of(3)) {
            IllegalStateException boom = new IllegalStateException("boom");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.forRange(30, 1, (from, to) -> {
                if (from > 0) {
                    throw boom;
                }
            }));
            assertSame(boom, e);
            // the pool still works afterwards
            int[] count = new int[1];
            p.forRange(1, 1, (from, to) -> count[0] += to - from);
            assertEquals(1, count[0]);
        }
    }
}
