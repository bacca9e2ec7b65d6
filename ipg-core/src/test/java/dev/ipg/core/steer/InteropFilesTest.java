package dev.ipg.core.steer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.model.Site;
import dev.ipg.core.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files other tools write and read: plain vectors and scores, repeng's GGUF control vectors, score tables. */
class InteropFilesTest {

    @TempDir
    Path tmp;

    static final Site SITE = new Site(2, Site.Kind.RESID_POST);

    @Test
    void selectionDirectionIsTheSelectedScoresAtUnitNorm() {
        float[] s = {3f, -1f, 4f, 0.5f, -9f};
        Selection top2 = Selection.of(SITE, s, new Top.Count(2), Rank.SIGNED);
        assertArrayEquals(new float[] {0.6f, 0, 0.8f, 0, 0}, SteeringVector.ofSelection(top2, s).values(), 1e-7f);
        Selection abs1 = Selection.of(SITE, s, new Top.Count(1), Rank.ABS);
        assertArrayEquals(new float[] {0, 0, 0, 0, -1f}, SteeringVector.ofSelection(abs1, s).values(), 0f);
        float[] zeros = new float[5];
        assertThrows(IpgException.class, () -> SteeringVector.ofSelection(Selection.of(SITE, zeros, new Top.Count(2), Rank.SIGNED), zeros));
    }

    @Test
    void ggufControlVectorRoundTripsWithAlignedTensorData() throws Exception {
        var dirs = new TreeMap<Integer, float[]>(Map.of(3, new float[] {1, 2, 3}, 10, new float[] {-1, 0.5f, 7}));
        Path f = tmp.resolve("cv.gguf");
        new RepengControlVector("qwen2", dirs).writeGguf(f);
        RepengControlVector back = RepengControlVector.readGguf(f);
        assertEquals("qwen2", back.modelHint());
        assertEquals(dirs.keySet(), back.directions().keySet());
        assertArrayEquals(dirs.get(10), back.directions().get(10), 0f);
        assertEquals(new Site(3, Site.Kind.RESID_POST), back.vector(3).site());
        // the layout: magic, version 3, 2 tensors, 3 keys; data at a multiple of 32, each tensor padded to 32 bytes
        byte[] bytes = Files.readAllBytes(f);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals('G', bytes[0]);
        assertEquals('F', bytes[3]);
        assertEquals(3, b.getInt(4));
        assertEquals(2L, b.getLong(8));
        assertEquals(3L, b.getLong(16));
        assertEquals(0, bytes.length % 32);
        int dataStart = bytes.length - 64;
        assertEquals(0, dataStart % 32);
        assertEquals(1f, b.getFloat(dataStart), 0f);
        assertEquals(-1f, b.getFloat(dataStart + 32), 0f);
        assertThrows(IpgException.class, () -> RepengControlVector.of("llama", new SteeringVector(new Site(0, Site.Kind.MLP_POST), new float[2])));
        Files.write(tmp.resolve("short.gguf"), java.util.Arrays.copyOf(bytes, 40));
        IpgException e = assertThrows(IpgException.class, () -> RepengControlVector.readGguf(tmp.resolve("short.gguf")));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void plainVectorFileNeedsItsSiteAndAMatchingOne() {
        Path f = tmp.resolve("plain.safetensors");
        new SafetensorsWriter().add("direction", new float[] {1, 2}, new long[] {1, 2}, DType.F32).write(f);
        assertTrue(assertThrows(IpgException.class, () -> SteeringVector.load(f)).getMessage().contains("--site"));
        SteeringVector v = SteeringVector.load(f, SITE);
        assertEquals(SITE, v.site());
        assertArrayEquals(new float[] {1, 2}, v.values(), 0f);
        Path named = tmp.resolve("named.safetensors");
        v.write(named);
        assertEquals(SITE, SteeringVector.load(named).site());
        IpgException e = assertThrows(IpgException.class, () -> SteeringVector.load(named, new Site(1, Site.Kind.RESID_POST)));
        assertTrue(e.getMessage().contains("not blocks.1.hook_resid_post"), e.getMessage());
        Path two = tmp.resolve("two.safetensors");
        new SafetensorsWriter().add("a", new float[] {1}, new long[] {1}, DType.F32).add("b", new float[] {1}, new long[] {1}, DType.F32).write(two);
        assertThrows(IpgException.class, () -> SteeringVector.load(two, SITE));
    }

    @Test
    void plainScoresFileIsReadForTheSiteAskedFor() {
        Path f = tmp.resolve("s.safetensors");
        new SafetensorsWriter().add("scores", new float[] {0.5f, -2f, 1f}, new long[] {3}, DType.F32).write(f);
        assertThrows(IpgException.class, () -> ScoresFile.load(f, null));
        ScoresFile sf = ScoresFile.load(f, SITE);
        assertEquals(SITE, sf.site());
        assertEquals("unknown", sf.method());
        ScoresTable t = ScoresTable.all(sf, Rank.SIGNED);
        assertEquals("site,rank,component,score,method\n" + SITE + ",1,2,1.0,unknown\n" + SITE + ",2,0,0.5,unknown\n"
                + SITE + ",3,1,-2.0,unknown\n", t.csv());
        assertEquals(2, t.json().get(0).get("component").asInt());
        assertEquals(-2.0, t.json().get(2).get("score").asDouble(), 0);
    }
}
