package dev.ipg.bench;

import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Matrix;
import dev.ipg.core.tensor.Parallel;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code out = x · wᵀ} with the kernels {@link KernelsProvider#lookup()} picks, on a
 * 896 x 896 weight (one Qwen2.5-0.5B projection) held off-heap like a mapped checkpoint.
 * Time per call; GFLOP/s = 2 m n k / time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MatmulBenchmark {

    @Param({"1", "8", "128"})
    public int m;

    @Param({"F32", "BF16"})
    public String dtype;

    @Param({"2"})
    public int threads;

    private static final int N = 896;
    private static final int K = 896;

    private Kernels kernels;
    private Parallel pool;
    private Arena arena;
    private Matrix w;
    private float[] x;
    private float[] out;

    @Setup(Level.Trial)
    public void setUp() {
        kernels = KernelsProvider.lookup();
        pool = Parallel.of(threads);
        arena = Arena.ofShared();
        w = GemmCommand.randomWeights(arena, DType.valueOf(dtype), N, K, 1);
        x = GemmCommand.randomInput(m * K, 2);
        out = new float[m * N];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float[] matmul() {
        kernels.matmul(pool, x, 0, m, w, out, 0);
        return out;
    }
}
