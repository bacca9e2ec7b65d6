package dev.ipg.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ipg.core.IpgException;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Matrix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {

    @TempDir
    Path dir;

    /** Values base, base + 1, ...: integers that F32, BF16 (below 256) and F16 (below 2048) store exactly. */
    private static float[] ramp(int base, int n) {
        float[] v = new float[n];
        for (int j = 0; j < n; j++) {
            v[j] = base + j;
        }
        return v;
    }

    private static List<SafetensorsWriter.Tensor> fiveTensors() {
        return List.of(
                new SafetensorsWriter.Tensor("model.embed_tokens.weight", ramp(0, 40), new long[] {10, 4}, DType.F32), // 160 B
                new SafetensorsWriter.Tensor("model.layers.0.mlp.up_proj.weight", ramp(2000, 32), new long[] {8, 4}, DType.F32), // 128 B
                new SafetensorsWriter.Tensor("model.layers.0.input_layernorm.weight", ramp(0, 4), new long[] {4}, DType.BF16), // 8 B
                new SafetensorsWriter.Tensor("lm_head.weight", ramp(1000, 120), new long[] {30, 4}, DType.F16), // 240 B
                new SafetensorsWriter.Tensor("model.norm.weight", ramp(0, 4), new long[] {4}, DType.F32)); // 16 B
    }

    @Test
    void shardedCheckpointRoundTripsLikeHuggingFaceWritesIt() throws IOException {
        // an earlier unsharded save must not survive next to the shards
        new SafetensorsWriter().add("old", new float[] {1}, new long[] {1}, DType.F32).write(dir.resolve("model.safetensors"));
        // limit 200 B: [embed 160] [up 128 + ln 8] [lm_head 240, larger than the limit, alone] [norm 16]
        List<Path> written = SafetensorsWriter.writeSharded(dir, fiveTensors(), 200);
        List<String> names = written.stream().map(p -> p.getFileName().toString()).toList();
        assertEquals(List.of("model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
                "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors",
                "model.safetensors.index.json"), names);
        try (var s = Files.list(dir)) {
            assertEquals(names, s.map(p -> p.getFileName().toString()).sorted().toList());
        }

        JsonNode index = new ObjectMapper().readTree(dir.resolve("model.safetensors.index.json").toFile());
        assertEquals(160 + 128 + 8 + 240 + 16, index.get("metadata").get("total_size").asLong());
        List<String> keys = new ArrayList<>();
        index.get("weight_map").fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("lm_head.weight", "model.embed_tokens.weight", "model.layers.0.input_layernorm.weight",
                "model.layers.0.mlp.up_proj.weight", "model.norm.weight"), keys, "HF sorts the weight_map");
        assertEquals("model-00003-of-00004.safetensors", index.get("weight_map").get("lm_head.weight").asText());
        assertEquals("model-00002-of-00004.safetensors",
                index.get("weight_map").get("model.layers.0.input_layernorm.weight").asText());

        try (var ck = Checkpoint.open(dir)) {
            assertEquals(4, ck.files().size());
            assertEquals(dir.resolve("model-00001-of-00004.safetensors"), ck.files().get(0));
            assertEquals(keys, List.copyOf(ck.names()));
            assertTrue(ck.has("model.norm.weight"));
            assertFalse(ck.has("model.norm.bias"));
            Matrix lm = ck.matrix("lm_head.weight", 30, 4);
            assertEquals(DType.F16, lm.dtype());
            assertEquals(1000f + 4 * 29 + 3, lm.get(29, 3));
            Matrix up = ck.matrix("model.layers.0.mlp.up_proj.weight");
            assertEquals(2000f + 4 * 7 + 1, up.get(7, 1));
            Matrix ln = ck.matrix("model.layers.0.input_layernorm.weight", 1, 4); // 1-D matches [1, cols]
            assertEquals(DType.BF16, ln.dtype());
            assertEquals(3f, ln.get(0, 3));
            assertEquals("F16", ck.info("lm_head.weight").dtype());
            assertEquals(240, ck.segment("lm_head.weight").byteSize());
        }
    }

    @Test
    void everythingInOneShardIsASingleModelSafetensorsAndStaleShardsGo() throws IOException {
        SafetensorsWriter.writeSharded(dir, fiveTensors(), 200);
        List<Path> written = SafetensorsWriter.writeSharded(dir, fiveTensors(), 1L << 30);
        assertEquals(List.of(dir.resolve("model.safetensors")), written);
        try (var s = Files.list(dir)) {
            assertEquals(List.of("model.safetensors"), s.map(p -> p.getFileName().toString()).toList());
        }
        try (var ck = Checkpoint.open(dir)) {
            assertEquals(List.of(dir.resolve("model.safetensors")), ck.files());
            // a single file's names keep the writer's order
            assertEquals(fiveTensors().stream().map(SafetensorsWriter.Tensor::name).toList(), List.copyOf(ck.names()));
            assertEquals(0f + 39, ck.matrix("model.embed_tokens.weight").get(9, 3));
        }
    }

    @Test
    void acceptsTheOnlySafetensorsFileUnderAnotherName() throws IOException {
        new SafetensorsWriter().add("w", new float[] {5, 6}, new long[] {2}, DType.F32).write(dir.resolve("weights.safetensors"));
        try (var ck = Checkpoint.open(dir)) {
            assertEquals(List.of(dir.resolve("weights.safetensors")), ck.files());
            assertEquals(6f, ck.matrix("w").get(0, 1));
        }
    }

    @Test
    void refusesADirectoryWithoutSafetensorsAndSaysWhatItHas() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{}");
        IpgException none = assertThrows(IpgException.class, () -> Checkpoint.open(dir));
        assertEquals(dir + " has no model.safetensors or model.safetensors.index.json; it contains no weight files",
                none.getMessage());

        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {1});
        IpgException bin = assertThrows(IpgException.class, () -> Checkpoint.open(dir));
        assertEquals(dir + " has no model.safetensors or model.safetensors.index.json; it contains pytorch_model.bin"
                + " (ipg reads safetensors only; convert the weights to safetensors)", bin.getMessage());

        new SafetensorsWriter().add("w", new float[] {1}, new long[] {1}, DType.F32).write(dir.resolve("a.safetensors"));
        new SafetensorsWriter().add("w", new float[] {1}, new long[] {1}, DType.F32).write(dir.resolve("b.safetensors"));
        IpgException two = assertThrows(IpgException.class, () -> Checkpoint.open(dir));
        assertEquals(dir + " has no model.safetensors or model.safetensors.index.json; it contains several"
                + " .safetensors files without an index: a.safetensors, b.safetensors, pytorch_model.bin", two.getMessage());

        IpgException missing = assertThrows(IpgException.class, () -> Checkpoint.open(dir.resolve("nope")));
        assertEquals(dir.resolve("nope") + " does not exist", missing.getMessage());
    }

    @Test
    void refusesAnIndexNamingAMissingShard() throws IOException {
        SafetensorsWriter.writeSharded(dir, fiveTensors(), 200);
        Files.delete(dir.resolve("model-00003-of-00004.safetensors"));
        IpgException e = assertThrows(IpgException.class, () -> Checkpoint.open(dir));
        assertEquals("model.safetensors.index.json in " + dir + " lists shard model-00003-of-00004.safetensors"
                + " (for tensor lm_head.weight), which does not exist", e.getMessage());
    }

    @Test
    void refusesAnIndexNamingATensorItsShardLacks() throws IOException {
        SafetensorsWriter.writeSharded(dir, fiveTensors(), 200);
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, Files.readString(index).replace("\"model.norm.weight\"", "\"model.norm.bias\""));
        IpgException e = assertThrows(IpgException.class, () -> Checkpoint.open(dir));
        assertEquals("model.safetensors.index.json in " + dir + " maps tensor model.norm.bias to"
                + " model-00004-of-00004.safetensors, which does not contain it", e.getMessage());
    }

    @Test
    void refusesMalformedIndexes() throws IOException {
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"x.safetensors\",}}");
        IpgException bad = assertThrows(IpgException.class, () -> Checkpoint.open(dir));
        assertTrue(bad.getMessage().startsWith(index + " is not valid JSON: "), bad.getMessage());
        assertTrue(bad.getMessage().contains("line 1"), bad.getMessage());

        Files.writeString(index, "{\"metadata\": {}}");
        assertEquals("model.safetensors.index.json in " + dir + " has no weight_map",
                assertThrows(IpgException.class, () -> Checkpoint.open(dir)).getMessage());

        Files.writeString(index, "{\"weight_map\": {\"a\": 3}}");
        assertEquals("model.safetensors.index.json in " + dir + " maps tensor a to a number, not a file name",
                assertThrows(IpgException.class, () -> Checkpoint.open(dir)).getMessage());

        Files.writeString(index, "{\"weight_map\": {\"a\": \"../outside.safetensors\"}}");
        assertEquals("model.safetensors.index.json in " + dir + " lists shard \"../outside.safetensors\", which is"
                + " not a file inside the directory", assertThrows(IpgException.class, () -> Checkpoint.open(dir)).getMessage());

        Files.writeString(index, "[]");
        assertEquals(index + " is not a JSON object (it is an array)",
                assertThrows(IpgException.class, () -> Checkpoint.open(dir)).getMessage());
    }

    @Test
    void aBrokenShardIsReportedByItsFileName() throws IOException {
        SafetensorsWriter.writeSharded(dir, fiveTensors(), 200);
        Path shard = dir.resolve("model-00002-of-00004.safetensors");
        byte[] b = Files.readAllBytes(shard);
        Files.write(shard, java.util.Arrays.copyOf(b, b.length - 3)); // cut the last 3 data bytes
        IpgException e = assertThrows(IpgException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().startsWith("model-00002-of-00004.safetensors is truncated: header says 136 bytes"
                + " of tensor data, file has 133"), e.getMessage());
    }

    @Test
    void missingTensorAndWrongShapeNameTensorFileAndExpectation() throws IOException {
        new SafetensorsWriter().add("model.layers.0.mlp.up_proj.weight", new float[64 * 32], new long[] {64, 32}, DType.BF16)
                .add("model.norm.weight", new float[32], new long[] {32}, DType.F32)
                .write(dir.resolve("model.safetensors"));
        try (var ck = Checkpoint.open(dir)) {
            IpgException shape = assertThrows(IpgException.class,
                    () -> ck.matrix("model.layers.0.mlp.up_proj.weight", 128, 32));
            assertEquals("tensor model.layers.0.mlp.up_proj.weight in model.safetensors has shape [64, 32],"
                    + " config.json implies [128, 32]", shape.getMessage());
            IpgException transposed = assertThrows(IpgException.class,
                    () -> ck.matrix("model.layers.0.mlp.up_proj.weight", 32, 64));
            assertTrue(transposed.getMessage().endsWith("has shape [64, 32], config.json implies [32, 64]"));
            IpgException norm = assertThrows(IpgException.class, () -> ck.matrix("model.norm.weight", 1, 64));
            assertEquals("tensor model.norm.weight in model.safetensors has shape [32], config.json implies [64]",
                    norm.getMessage());
            assertEquals(32, ck.matrix("model.norm.weight", 1, 32).cols());
            assertThrows(IpgException.class, () -> ck.matrix("model.norm.weight", 32, 1)); // rank differs

            IpgException missing = assertThrows(IpgException.class, () -> ck.matrix("model.layers.1.mlp.up_proj.weight"));
            assertEquals("no tensor model.layers.1.mlp.up_proj.weight in checkpoint " + dir, missing.getMessage());
            assertThrows(IpgException.class, () -> ck.info("x"));
        }
    }

    @Test
    void closeUnmapsEveryShard() throws IOException {
        SafetensorsWriter.writeSharded(dir, fiveTensors(), 200);
        Matrix m;
        try (var ck = Checkpoint.open(dir)) {
            m = ck.matrix("model.norm.weight");
            assertEquals(2f, m.get(0, 2));
        }
        assertThrows(IllegalStateException.class, () -> m.get(0, 2));
    }
}
