package dev.ipg.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.grad.Interpolation;
import dev.ipg.core.grad.ReverseMode;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.tensor.Bf16Compute;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Matrix;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.testutil.PyTorchReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every model family with BF16 weights through the native BF16 GEMM ({@link Bf16Compute#AVX512}
 * and {@link Bf16Compute#AMX}, each where the CPU has it), against the float64 PyTorch
 * implementation of the Hugging Face equations (hf_reference.py) and against the same equations
 * computed by PyTorch in bfloat16.
 *
 * <p>Tolerance, for bf16 activations: rounding the input of every product to bf16 moves it by up to
 * {@code 2^-8} of itself, so each projection is off by up to about {@code 2^-8} relative, and the
 * errors of the layers add up. The logits and sites must be within {@code 2^-5} of the largest
 * reference magnitude (four times the single-rounding bound per layer of the tiny checkpoints), and
 * no further from the float64 reference than PyTorch's own bfloat16 computation is (which rounds
 * every intermediate, not only the inputs of the products). The Java path on the same checkpoints
 * stays within 1e-4 ({@link ModelVsPyTorchTest}); that the native path is further away than that
 * shows its activations really are rounded. The site gradient through the native path (whose
 * input-gradient products round the output gradients to bf16 as well) is checked against float64
 * autograd the same way.
 */
class NativeBf16VsPyTorchTest {

    @TempDir
    static Path tmp;

    static Parallel pool;

    @BeforeAll
    static void start() {
        pool = Parallel.of(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    static Stream<Arguments> families() {
        return Arrays.stream(Family.values()).map(f -> Arguments.of(f.name(), RandomCheckpoint.Spec.tiny(f).withDtype(DType.BF16)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void nativePathIsCloseToTheReferenceAndCloserThanPyTorchBfloat16(String name, RandomCheckpoint.Spec spec) {
        List<Kernels> paths = nativePaths();
        if (paths.isEmpty()) {
            return;
        }
        Path dir = RandomCheckpoint.write(tmp.resolve(name), spec, name.hashCode());
        int t = 40;
        int[] ids = new int[t];
        SplittableRandom r = new SplittableRandom(name.hashCode());
        for (int i = 0; i < t; i++) {
            ids[i] = r.nextInt(spec.vocab());
        }
        int last = spec.layers() - 1;
        List<Site> sites = List.of(new Site(0, Site.Kind.RESID_POST), new Site(last, Site.Kind.RESID_POST));
        var request = PyTorchReference.forModel(dir).tokens(ids).sites(sites.stream().map(Site::toString).toArray(String[]::new));
        Path ref64 = request.run(tmp.resolve(name + "-f64.safetensors"));
        Path refBf16 = tmp.resolve(name + "-bf16.safetensors");
        List<String> args = new ArrayList<>(request.arguments(refBf16));
        args.addAll(List.of("--dtype", "bfloat16"));
        PyTorchReference.runScript(PyTorchReference.script(), args);

        try (SafetensorsFile exact = SafetensorsFile.open(ref64); SafetensorsFile torchBf16 = SafetensorsFile.open(refBf16)) {
            for (Kernels kernels : paths) {
                try (Transformer m = Transformer.load(dir, kernels, pool)) {
                    ActivationCache cache = new ActivationCache();
                    Hooks hooks = Hooks.none();
                    sites.forEach(s -> hooks.read(s, cache));
                    int[] all = new int[t];
                    Arrays.setAll(all, i -> i);
                    float[] logits = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, t), hooks, all);
                    String what = name + " " + kernels.name();
                    check(what + " logits", exact.matrix("logits"), torchBf16.matrix("logits"), logits);
                    for (Site s : sites) {
                        check(what + " " + s, exact.matrix(s.toString()), torchBf16.matrix(s.toString()), cache.get(s, 0));
                    }
                }
            }
        }
    }

    /**
     * The site gradient of every family through the native path (forward products and their input
     * gradients on the bf16 instructions) against float64 autograd: {@code dL/dh} at the first
     * block's output and {@code dL/dalpha}, relative error at most {@code 2^-5} (bf16 rounding of
     * the activations and of the output gradients at every product, over the tiny checkpoints'
     * layers) and above 1e-4 (the exact-F32 path's {@link dev.ipg.core.grad.GradVsPyTorchTest}
     * bound is 1e-3, its error about 1e-6: the native rounding is really in effect).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void nativeSiteGradientIsCloseToAutograd(String name, RandomCheckpoint.Spec spec) {
        List<Kernels> paths = nativePaths();
        if (paths.isEmpty()) {
            return;
        }
        Path dir = RandomCheckpoint.write(tmp.resolve(name + "-grad"), spec, name.hashCode() + 1);
        int t = 24;
        int from = 5;
        int[] ids = new int[t];
        SplittableRandom r = new SplittableRandom(name.hashCode() + 2);
        for (int i = 0; i < t; i++) {
            ids[i] = r.nextInt(spec.vocab());
        }
        Site site = new Site(0, Site.Kind.RESID_POST);
        Path ref = PyTorchReference.forModel(dir).tokens(ids).gradient(site.toString(), from).run(tmp.resolve(name + "-grad.safetensors"));
        try (SafetensorsFile exp = SafetensorsFile.open(ref)) {
            for (Kernels kernels : paths) {
                try (Transformer m = Transformer.load(dir, kernels, pool)) {
                    int width = site.width(m.config());
                    var res = new ReverseMode(m).siteGradients(List.of(new Trajectory(ids, from)),
                            Interpolation.uniform(site, width, 1f), true).getFirst();
                    String what = name + " " + kernels.name();
                    double g = PyTorchReference.relativeError(what + " grad", exp.matrix("grad"), res.siteGrad());
                    double sg = PyTorchReference.relativeError(what + " scale_grad", exp.matrix("scale_grad"), res.scaleGrad());
                    System.out.printf("NativeBf16VsPyTorchTest: %s: site gradient relative error %.3g, scale gradient %.3g%n", what, g, sg);
                    for (double e : new double[] {g, sg}) {
                        assertTrue(e <= 0x1p-5, what + ": relative error " + e + " > 2^-5");
                        assertTrue(e > 1e-4, what + ": relative error " + e + " as small as the exact-F32 path's: not rounded?");
                    }
                }
            }
        }
    }

    /** The native kernels this CPU can run, each path once. */
    private static List<Kernels> nativePaths() {
        List<Kernels> paths = new ArrayList<>();
        for (Bf16Compute c : new Bf16Compute[] {Bf16Compute.AVX512, Bf16Compute.AMX}) {
            Kernels k = KernelsProvider.lookup(c);
            if (k.name().endsWith("+bf16-" + (c == Bf16Compute.AMX ? "amx" : "avx512bf16"))) {
                paths.add(k);
            } else {
                System.out.println("NativeBf16VsPyTorchTest: " + c + " unavailable here, kernels " + k.name());
            }
        }
        // the CPU test (NativeBf16Test) fails where gcc and the instructions are present but the library is not
        return paths;
    }

    private static void check(String what, Matrix exact, Matrix torchBf16, float[] actual) {
        assertEquals(exact.size(), actual.length, what + ": size");
        double worst = 0, torch = 0, scale = 0;
        for (long i = 0; i < actual.length; i++) {
            double e = exact.getFlat(i);
            worst = Math.max(worst, Math.abs(actual[(int) i] - e));
            torch = Math.max(torch, Math.abs(torchBf16.getFlat(i) - e));
            scale = Math.max(scale, Math.abs(e));
        }
        System.out.printf("NativeBf16VsPyTorchTest: %s: max |diff| %.3g (PyTorch bfloat16 %.3g), largest |value| %.3g%n",
                what, worst, torch, scale);
        assertTrue(worst <= 0x1p-5 * scale, what + ": max |diff| " + worst + " > 2^-5 of " + scale);
        assertTrue(worst <= torch, what + ": max |diff| " + worst + " > PyTorch bfloat16's " + torch);
        assertTrue(worst > 1e-4, what + ": max |diff| " + worst + " as small as the exact-F32 path's: activations not rounded?");
    }
}
