package dev.ipg.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.testutil.PyTorchReference;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import picocli.CommandLine;

/**
 * The two IPG implementations of {@code ipg-bench ipg} compute the same scores: ipg samples the
 * trajectories and writes them with its per-point contributions and scores; the PyTorch estimator
 * of {@code torch_ipg_bench.py} runs its own autograd backward on exactly those trajectories (same
 * advantages, path points and quadrature weights) and its scores must agree within float32
 * rounding (F32 weights, and BF16 weights against PyTorch upcasting them). Fails when no Python
 * with torch is found.
 */
class IpgVsPyTorchTest {

    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(value = Family.class, names = {"QWEN2", "LLAMA", "GPT2"})
    void pytorchBackwardOnIpgTrajectoriesGivesTheSameScores(Family family) throws Exception {
        check(family, RandomCheckpoint.Spec.tiny(family), List.of());
    }

    /**
     * BF16 weights: ipg multiplies the stored bf16 values exactly in float32, which is what PyTorch
     * computes with the weights upcast per matmul, so the same tolerance holds.
     */
    @org.junit.jupiter.api.Test
    void bf16WeightsGiveTheSameScoresAsPyTorchWithUpcastWeights() throws Exception {
        check(Family.QWEN2, RandomCheckpoint.Spec.tiny(Family.QWEN2).withDtype(dev.ipg.core.tensor.DType.BF16),
                List.of("--bf16-compute", "upcast"));
    }

    private void check(Family family, RandomCheckpoint.Spec spec, List<String> torchArgs) throws Exception {
        Path model = RandomCheckpoint.write(tmp.resolve("model"), spec, 11);
        Path traj = tmp.resolve("trajectories.json");
        int rc = new CommandLine(new IpgBench()).execute("--model", model.toString(), "--no-torch", "--steps", "3", "--samples", "4",
                "--new-tokens", "6", "--prompt-len", "5", "--temperature", "2.5", "--site", "hook_resid_post", "--threads", "1",
                "--trajectories-out", traj.toString());
        assertEquals(0, rc, "ipg-bench ipg exit code");
        Path out = tmp.resolve("torch.json");
        List<String> args = new java.util.ArrayList<>(List.of("--model", model.toString(), "--mode", "backward",
                "--trajectories", traj.toString(), "--threads", "1", "--out", out.toString()));
        args.addAll(torchArgs);
        PyTorchReference.runScript(BenchEnv.script("torch_ipg_bench.py"), args);
        ObjectMapper json = new ObjectMapper();
        JsonNode ipg = json.readTree(traj.toFile());
        JsonNode torch = json.readTree(out.toFile());

        // the check must compare something: some group has mixed rewards, so some score is non-zero
        double[] want = doubles(ipg.path("ipg"));
        double[] got = doubles(torch.path("ipg"));
        double scale = maxAbs(want);
        boolean mixed = false;
        for (JsonNode node : ipg.path("nodes")) {
            for (JsonNode a : node.path("advantages")) {
                mixed |= a.asDouble() != 0;
            }
        }
        assertTrue(mixed && scale > 0, () -> "no group was back-propagated; the comparison would be empty: " + ipg.path("nodes"));
        assertEquals(spec.hidden(), want.length);
        System.out.printf("%s %s: largest |score| %.3g%n", family, spec.dtype(), scale);
        assertClose(want, got, scale, "IPG scores");
        JsonNode nodes = ipg.path("nodes");
        assertEquals(3, nodes.size());
        for (int k = 0; k < nodes.size(); k++) {
            double[] w = doubles(nodes.get(k).path("contribution"));
            assertClose(w, doubles(torch.path("contributions").get(k)), Math.max(maxAbs(w), 1e-6), "path point " + k);
        }
    }

    private static void assertClose(double[] want, double[] got, double scale, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            // float32 on both sides, different summation orders: agree to ~1e-6 of the largest score
            assertEquals(want[i], got[i], 2e-4 * scale, what + ": component " + i);
        }
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double x : a) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    private static double[] doubles(JsonNode arr) {
        assertTrue(arr.isArray() && !arr.isEmpty(), "missing array in the results");
        double[] d = new double[arr.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = arr.get(i).asDouble();
        }
        return d;
    }
}
