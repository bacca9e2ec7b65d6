package dev.ipg.core.attribution.baselines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.io.RunLock;
import dev.ipg.core.run.RunConfig;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random selection: every component gets an independent uniform score in [0, 1), so the top-p
 * components (by signed score or by |score|) are a uniformly random subset. Seeded; the
 * comparison averages several seeds. No data is used.
 */
public final class RandomBaseline {

    private RandomBaseline() {
    }

    /** The scores for {@code width} components under {@code seed}. */
    public static float[] scores(int width, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] s = new float[width];
        for (int i = 0; i < width; i++) {
            s[i] = (float) rng.nextDouble();
        }
        return s;
    }

    /** Writes (or finds) the run directory of a random selection at {@code site}. */
    public static JsonNode run(Transformer model, Site site, long seed, Path dir) {
        try (RunLock lock = ScoresOutput.lock(dir)) {
            return runLocked(model, site, seed, dir);
        }
    }

    private static JsonNode runLocked(Transformer model, Site site, long seed, Path dir) {
        site.checkIn(model.config());
        long t0 = System.nanoTime();
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("method", Method.RANDOM.cliName());
        c.set("model", RunConfig.model(model));
        c.put("site", site.toString());
        c.putArray("sites").add(site.toString());
        c.putObject("hyperparameters").put("seed", seed);
        JsonNode done = ScoresOutput.prepare(dir, c);
        if (done != null) {
            return done;
        }
        float[] s = scores(site.width(model.config()), seed);
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("note", "uniform random scores in [0, 1): the top components are a uniformly random subset");
        return ScoresOutput.write(dir, site, s, null, 0, c, r, Map.of(), 50, (System.nanoTime() - t0) / 1e9);
    }
}
