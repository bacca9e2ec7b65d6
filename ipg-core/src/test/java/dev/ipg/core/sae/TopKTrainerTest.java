package dev.ipg.core.sae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.model.Site;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TopK SAE training recovers a planted sparse dictionary: activations built as sparse positive
 * combinations of 64 unit atoms in 32 dimensions (3 atoms per row, plus a constant offset that
 * b_dec must absorb).
 */
class TopKTrainerTest {

    static final int D = 32;
    static final int ATOMS = 64;

    @TempDir
    Path tmp;

    static float[] atoms(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = TestSaes.normal(r, ATOMS * D, 1);
        for (int i = 0; i < ATOMS; i++) {
            double s = 0;
            for (int j = 0; j < D; j++) {
                s += a[i * D + j] * a[i * D + j];
            }
            for (int j = 0; j < D; j++) {
                a[i * D + j] /= (float) Math.sqrt(s);
            }
        }
        return a;
    }

    static float[] batch(float[] atoms, SplittableRandom r, int rows) {
        float[] x = new float[rows * D];
        for (int b = 0; b < rows; b++) {
            for (int j = 0; j < D; j++) {
                x[b * D + j] = 0.5f;
            }
            for (int c = 0; c < 3; c++) {
                int i = r.nextInt(ATOMS);
                float coef = (float) (0.5 + 1.5 * r.nextDouble());
                for (int j = 0; j < D; j++) {
                    x[b * D + j] += coef * atoms[i * D + j];
                }
            }
        }
        return x;
    }

    @Test
    void recoversAPlantedSparseDictionary() {
        float[] atoms = atoms(1);
        var t = new TopKTrainer(D, new TopKTrainer.Options(2 * ATOMS, 4, 2e-3, 1.0 / 32, 20_000, 2));
        SplittableRandom r = new SplittableRandom(3);
        TopKTrainer.Stats s = null;
        for (int step = 0; step < 3000; step++) {
            s = t.step(batch(atoms, r, 64), 64);
        }
        Sae sae = t.sae(new Site(0, Site.Kind.RESID_POST), "trained");
        // FVU on fresh rows
        float[] x = batch(atoms, new SplittableRandom(99), 2000);
        double err = 0;
        double var = 0;
        double[] mean = new double[D];
        for (int b = 0; b < 2000; b++) {
            for (int j = 0; j < D; j++) {
                mean[j] += x[b * D + j] / 2000.0;
            }
        }
        for (int b = 0; b < 2000; b++) {
            Sae.Code c = sae.encode(x, b * D);
            float[] xHat = sae.decode(c.f, c);
            for (int j = 0; j < D; j++) {
                err += Math.pow(xHat[j] - x[b * D + j], 2);
                var += Math.pow(x[b * D + j] - mean[j], 2);
            }
        }
        double fvu = err / var;
        assertTrue(fvu < 0.1, "FVU " + fvu + " (last batch " + s + ")");
        int matched = 0;
        for (int a = 0; a < ATOMS; a++) {
            double best = 0;
            for (int i = 0; i < sae.dSae(); i++) {
                double dot = 0;
                for (int j = 0; j < D; j++) {
                    dot += atoms[a * D + j] * sae.wDec()[i * D + j];
                }
                best = Math.max(best, dot);
            }
            matched += best >= 0.9 ? 1 : 0;
        }
        assertTrue(matched >= 0.8 * ATOMS, matched + " of " + ATOMS + " planted atoms matched with cosine >= 0.9");
        for (int i = 0; i < sae.dSae(); i++) {
            double n2 = 0;
            for (int j = 0; j < D; j++) {
                n2 += sae.wDec()[i * D + j] * sae.wDec()[i * D + j];
            }
            assertEquals(1.0, n2, 1e-4, "decoder rows are unit-norm");
        }
        assertTrue(s.l0() <= 4.0 + 1e-9);
    }

    @Test
    void savedStateResumesToTheSameWeights() {
        float[] atoms = atoms(5);
        var opt = new TopKTrainer.Options(96, 4, 1e-3, 1.0 / 32, 200, 7);
        SplittableRandom r1 = new SplittableRandom(8);
        float[][] batches = new float[6][];
        for (int i = 0; i < 6; i++) {
            batches[i] = batch(atoms, r1, 32);
        }
        var a = new TopKTrainer(D, opt);
        for (int i = 0; i < 6; i++) {
            a.step(batches[i], 32);
        }
        var b = new TopKTrainer(D, opt);
        for (int i = 0; i < 3; i++) {
            b.step(batches[i], 32);
        }
        Path f = tmp.resolve("state.safetensors");
        b.save(f, Map.of("ipg.cursor", "3"));
        var c = new TopKTrainer(D, opt);
        assertEquals("3", c.load(f).get("ipg.cursor"));
        for (int i = 3; i < 6; i++) {
            c.step(batches[i], 32);
        }
        Site site = new Site(0, Site.Kind.RESID_POST);
        assertArrayEquals(a.sae(site, "a").wDec(), c.sae(site, "c").wDec());
        assertArrayEquals(a.sae(site, "a").wEnc(), c.sae(site, "c").wEnc());
        assertEquals(a.steps(), c.steps());
        assertEquals(a.deadFraction(), c.deadFraction());
    }
}
