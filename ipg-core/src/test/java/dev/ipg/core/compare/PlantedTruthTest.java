package dev.ipg.core.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.Site;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlantedTruthTest {

    @TempDir
    Path tmp;

    /** Worked by hand: planted {1, 4, 6} among 8; ranking 4, 0, 1, 7, 2, 3, 5, 6 (scores descending). */
    @Test
    void precisionRecallAndAveragePrecisionByHand() {
        var t = new PlantedTruth(Site.parse("blocks.1.mlp.hook_post"), new int[] {1, 4, 6}, "x", "test");
        double[] key = {7, 9, 6, 3, 10, 2, 1, 5}; // order 4, 1, 0, 2, 7, 3, 5, 6
        var s = t.score("m", List.of(key), new int[] {1, 2, 4, 8});
        // ranks: 4 -> 1, 1 -> 2, 6 -> 8
        assertArrayEquals(new int[] {2, 1, 8}, s.ranks());
        assertEquals(2.0 / 3, s.precision(), 1e-12); // top 3 = {4, 1, 0}
        assertArrayEquals(new double[] {1, 1, 0.5, 3.0 / 8}, s.precisionAtK(), 1e-12);
        assertArrayEquals(new double[] {1.0 / 3, 2.0 / 3, 2.0 / 3, 1}, s.recallAtK(), 1e-12);
        // AP = (1/1 + 2/2 + 3/8) / 3
        assertEquals((1 + 1 + 3.0 / 8) / 3, s.averagePrecision(), 1e-12);
    }

    @Test
    void tiesGoToTheLowerIndexAndSeedsAreAveraged() {
        var t = new PlantedTruth(Site.parse("blocks.0.mlp.hook_post"), new int[] {2}, "", "test");
        var s = t.score("random", List.of(new double[] {0, 0, 0, 0}, new double[] {0, 0, 5, 0}), new int[] {1, 4});
        // seed 0: all tied -> 2 ranks third; seed 1: 2 ranks first
        assertEquals(0.5, s.precision(), 1e-12);
        assertEquals(0, s.min());
        assertEquals(1, s.max());
        assertEquals((1.0 / 3 + 1) / 2, s.averagePrecision(), 1e-12);
        assertArrayEquals(new double[] {0.5, 0.25}, s.precisionAtK(), 1e-12);
        assertArrayEquals(new double[] {0.5, 1}, s.recallAtK(), 1e-12);
    }

    @Test
    void readsPlantedJsonAndRefusesBadFiles() throws Exception {
        Path f = tmp.resolve("planted.json");
        Files.writeString(f, "{\"site\": \"blocks.2.mlp.hook_post\", \"indices\": [9, 3], \"carries\": \"re-check decision\"}");
        var t = PlantedTruth.read(f);
        assertEquals(Site.parse("blocks.2.mlp.hook_post"), t.site());
        assertArrayEquals(new int[] {3, 9}, t.indices());
        assertEquals("re-check decision", t.carries());
        Files.writeString(f, "{\"site\": \"blocks.2.mlp.hook_post\", \"indices\": [3, 3]}");
        assertTrue(assertThrows(IpgException.class, () -> PlantedTruth.read(f)).getMessage().contains("twice"));
        Files.writeString(f, "{\"site\": \"blocks.2.mlp\", \"indices\": [3]}");
        assertTrue(assertThrows(IpgException.class, () -> PlantedTruth.read(f)).getMessage().startsWith(f.toString()));
        Files.writeString(f, "{\"site\": \"blocks.2.mlp.hook_post\", \"indices\": []}");
        assertTrue(assertThrows(IpgException.class, () -> PlantedTruth.read(f)).getMessage().contains("non-empty"));
        Files.writeString(f, "{\"site\": \"blocks.2.mlp.hook_post\", \"indices\": [-1]}");
        assertThrows(IpgException.class, () -> PlantedTruth.read(f));
        var ok = new PlantedTruth(Site.parse("blocks.2.mlp.hook_post"), new int[] {500}, "", "p.json");
        assertTrue(assertThrows(IpgException.class, () -> ok.checkWidth(384)).getMessage().contains("outside"));
    }
}
