package dev.ipg.core.testutil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PyTorchReferenceTest {

    @Test
    void referencePassesItsOwnIndependentChecks() {
        // KV-cache decoder with scalar loops and complex RoPE, hand-computed llama3 frequencies,
        // GPT-2 without attention in numpy, finite-difference gradients, the command line.
        var output = PyTorchReference.runScript(PyTorchReference.selfTestScript(), List.of());
        assertTrue(output.contains("all checks passed"), output);
        assertTrue(!output.contains("FAIL"), output);
    }

    @Test
    void requestBecomesTheScriptsCommandLine(@TempDir Path tmp) {
        var model = tmp.resolve("m");
        var scale = tmp.resolve("s.safetensors");
        var out = tmp.resolve("o.safetensors");
        var args = PyTorchReference.forModel(model)
                .tokens(5, 6, 7)
                .sites("blocks.0.hook_resid_post", "blocks.1.attn.hook_z")
                .gradient("blocks.1.mlp.hook_post", 1)
                .scale("blocks.0.mlp.hook_post", scale)
                .float64Output()
                .arguments(out);
        assertEquals(List.of("--model", model.toAbsolutePath().toString(), "--tokens", "5,6,7",
                "--out", out.toAbsolutePath().toString(),
                "--sites", "blocks.0.hook_resid_post,blocks.1.attn.hook_z",
                "--grad-site", "blocks.1.mlp.hook_post", "--from", "1",
                "--scale", "blocks.0.mlp.hook_post:" + scale.toAbsolutePath(),
                "--out-dtype", "f64"), args);
    }

    @Test
    void missingCheckpointFailsWithTheScriptsMessage(@TempDir Path tmp) {
        var error = assertThrows(AssertionError.class, () -> PyTorchReference.forModel(tmp.resolve("absent"))
                .tokens(1, 2)
                .run(tmp.resolve("out.safetensors")));
        assertTrue(error.getMessage().contains("has no config.json"), error.getMessage());
        assertTrue(!Files.exists(tmp.resolve("out.safetensors")));
    }
}
