package dev.ipg.core.attribution.baselines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.run.ComponentStats;
import dev.ipg.core.run.RunConfig;
import dev.ipg.core.run.RunDirectory;
import dev.ipg.core.run.RunFiles;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.RunLock;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.model.Site;
import dev.ipg.core.steer.ScoresFile;
import dev.ipg.core.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The run directory of a baseline, in the format of {@code ipg attribute}:
 * <pre>
 *   RUN_DIR/run-config.json      what produced the results (a different one refuses to mix)
 *   RUN_DIR/scores.safetensors   scores [d], SITE/scores [d], and per_prompt / SITE/per_prompt [M, d]
 *                                where the method has per-prompt scores; metadata ipg.config
 *   RUN_DIR/top.csv              the top components (same columns as ipg attribute)
 *   RUN_DIR/run.json             configuration, method-specific results, timings
 * </pre>
 */
final class ScoresOutput {

    static final String CONFIG = "run-config.json";
    static final String RUN = "run.json";

    private ScoresOutput() {
    }

    /**
     * Creates {@code dir} if needed and takes its {@link RunLock} (refusing a directory another run
     * is writing into); removes the temporary files a killed run left behind.
     */
    static RunLock lock(Path dir) {
        RunLock lock = RunDirectory.lock(dir);
        AtomicFiles.removeStaleTemporaries(dir);
        return lock;
    }

    /**
     * Prepares {@code dir} for a run of {@code config}: returns the finished run.json when the
     * directory already holds the results of exactly this configuration, else null (and records the
     * configuration, refusing a directory that holds another one; {@code dataset.used} may differ).
     */
    static JsonNode prepare(Path dir, ObjectNode config) {
        Path run = dir.resolve(RUN);
        if (Files.exists(run) && Files.exists(dir.resolve(ScoresFile.NAME))) {
            JsonNode old = Json.read(run);
            if (RunConfig.differences(old.path("config"), config).isEmpty()) {
                return old;
            }
        }
        RunConfig.prepare(dir, CONFIG, config, s -> s.startsWith("dataset.used"));
        return null;
    }

    /**
     * Writes the scores of one site and run.json.
     *
     * @param perPrompt per-prompt scores [m, d] or null
     * @param extra     more tensors for scores.safetensors (e.g. {@code vector})
     * @param results   method-specific figures for run.json
     */
    static JsonNode write(Path dir, Site site, float[] scores, float[] perPrompt, int m, ObjectNode config, ObjectNode results,
                          Map<String, float[]> extra, int topRows, double seconds) {
        return write(dir, site.toString(), scores, perPrompt, m, config, results, extra, topRows, seconds);
    }

    /** As above, for scores named {@code site} (e.g. an SAE's latents, {@code SITE.hook_sae_acts_post}). */
    static JsonNode write(Path dir, String site, float[] scores, float[] perPrompt, int m, ObjectNode config, ObjectNode results,
                          Map<String, float[]> extra, int topRows, double seconds) {
        int d = scores.length;
        SafetensorsWriter w = new SafetensorsWriter();
        w.add("scores", scores, new long[] {d}, DType.F32);
        w.add(site + "/scores", scores, new long[] {d}, DType.F32);
        if (perPrompt != null) {
            w.add("per_prompt", perPrompt, new long[] {m, d}, DType.F32);
            w.add(site + "/per_prompt", perPrompt, new long[] {m, d}, DType.F32);
        }
        extra.forEach((name, v) -> w.add(name, v, new long[] {v.length}, DType.F32));
        w.metadata("ipg.config", config.toString());
        w.write(dir.resolve(ScoresFile.NAME));

        ComponentStats.writeTopCsv(dir.resolve("top.csv"), List.of(ComponentStats.of(site, scores, perPrompt, m, d)), topRows);

        ObjectNode run = JsonNodeFactory.instance.objectNode();
        run.put("ipg_version", RunFiles.version());
        run.set("config", config);
        run.set("results", results);
        ObjectNode t = run.putObject("timings");
        t.put("wall_s", seconds);
        Json.write(dir.resolve(RUN), run);
        return run;
    }
}
