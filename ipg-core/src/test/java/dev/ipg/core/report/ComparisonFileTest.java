package dev.ipg.core.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.eval.Wilson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shape of ipg compare's output as the report reads it. */
class ComparisonFileTest {

    @TempDir
    Path tmp;

    @Test
    void readsArmsWithIntervalsAndTheSweepFromJson() throws IOException {
        Files.writeString(tmp.resolve("comparison.json"), """
                {"dataset": {"file": "test.jsonl", "problems": 40},
                 "original": {"problems": 40, "correct": 30, "accuracy": 0.75, "wilson95": {"lower": 0.6, "upper": 0.86},
                              "mean_generated_tokens": 120.5},
                 "methods": [
                   {"method": "ipg", "enhance": {"gamma": 2, "results": {"problems": 40, "correct": 32, "accuracy": 0.8,
                                                 "wilson95": {"lower": 0.65, "upper": 0.9}, "mean_generated_tokens": 110}},
                                     "suppress": {"gamma": 0, "problems": 40, "correct": 8}},
                   {"method": "random", "suppress": {"gamma": 0, "accuracy": 0.7, "lower": 0.55, "upper": 0.82}}],
                 "gamma_sweep": [{"method": "ipg", "gamma": 0.5, "accuracy": 0.6, "lower": 0.45, "upper": 0.74, "mean_generated_tokens": 90}]}
                """);
        var c = ComparisonFile.read(tmp);
        assertEquals("test.jsonl", c.dataset());
        assertEquals(40, c.problems());
        assertEquals(0.75, c.original().accuracy());
        assertEquals(0.6, c.original().lower());
        assertEquals(120.5, c.original().meanTokens());
        assertNull(c.original().gamma());
        var ipg = c.methods().getFirst();
        assertEquals("ipg", ipg.method());
        assertEquals(2.0, ipg.enhance().gamma());
        assertEquals(0.8, ipg.enhance().accuracy());
        assertEquals(0.9, ipg.enhance().upper());
        // no accuracy and no interval given: 8 of 40 and Wilson's interval
        Wilson w = Wilson.of(8, 40);
        assertEquals(0.2, ipg.suppress().accuracy(), 1e-12);
        assertEquals(w.lower(), ipg.suppress().lower(), 1e-12);
        assertEquals(w.upper(), ipg.suppress().upper(), 1e-12);
        assertNull(c.methods().get(1).enhance());
        assertEquals(0.55, c.methods().get(1).suppress().lower());
        assertEquals(1, c.gammaSweep().size());
        assertEquals(0.5, c.gammaSweep().getFirst().gamma());
        assertEquals(90.0, c.gammaSweep().getFirst().meanTokens());
    }

    @Test
    void theSweepMayComeFromTheCsv() throws IOException {
        Files.writeString(tmp.resolve("comparison.json"), """
                {"original": {"accuracy": 0.5, "lower": 0.3, "upper": 0.7}, "methods": []}
                """);
        Files.writeString(tmp.resolve("gamma_sweep.csv"), """
                method,gamma,accuracy,lower,upper,mean_generated_tokens
                ipg,0,0.1,0.02,0.3,40
                ipg,2,0.55,0.35,0.73,
                """);
        var c = ComparisonFile.read(tmp);
        assertEquals(2, c.gammaSweep().size());
        assertEquals(0.1, c.gammaSweep().getFirst().accuracy());
        assertEquals(40.0, c.gammaSweep().getFirst().meanTokens());
        assertNull(c.gammaSweep().get(1).meanTokens());
        assertEquals(0.73, c.gammaSweep().get(1).upper());
    }

    @Test
    void aMissingOrEmptyComparisonIsAClearError() throws IOException {
        var e = assertThrows(IpgException.class, () -> ComparisonFile.read(tmp));
        assertTrue(e.getMessage().contains("comparison.json"), e.getMessage());
        Files.writeString(tmp.resolve("comparison.json"), "{\"dataset\": \"x\"}");
        e = assertThrows(IpgException.class, () -> ComparisonFile.read(tmp));
        assertTrue(e.getMessage().contains("neither"), e.getMessage());
    }
}
