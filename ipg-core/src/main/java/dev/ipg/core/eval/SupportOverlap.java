package dev.ipg.core.eval;

import dev.ipg.core.data.Dataset;
import dev.ipg.core.data.Overlap;

import dev.ipg.core.data.Problem;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.ModelFingerprint;
import dev.ipg.core.steer.ScoresFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Whether problems a steered model is evaluated on were part of the support set its scores were
 * computed on (ipg-method.md §6: the two splits must be disjoint). {@code ipg compare} refuses an
 * overlap; {@code ipg eval} and {@code ipg steer}, which take a scores file made elsewhere, warn
 * with the same {@link Overlap} description.
 *
 * <p>The support set is what the scores file records in its {@code ipg.config} metadata: the
 * dataset's sha-256 and the number of problems used (its first ones), and, for runs of {@code ipg
 * attribute} (and {@code pg}), each prompt's id and question under {@code RUN_DIR/prompts}. An
 * evaluation file with the same sha-256 overlaps in its first problems; another file is compared
 * with the recorded prompts by id and normalized question. When neither can be done the check
 * says so instead of passing silently.
 */
public final class SupportOverlap {

    private SupportOverlap() {}

    /** What a scores file records about its support set. */
    record Support(String file, String sha256, int used, List<Problem> recorded) {}

    static Optional<Support> support(ScoresFile sf) {
        String cfg = sf.metadata().get("ipg.config");
        if (cfg == null) {
            return Optional.empty();
        }
        JsonNode d = Json.parse(cfg, sf.file() + " metadata ipg.config", false).path("dataset");
        if (!d.isObject()) {
            return Optional.empty(); // random scores: no support set
        }
        int used = d.path("used").asInt(d.path("problems").asInt(0));
        List<Problem> recorded = new ArrayList<>();
        Path prompts = sf.file().toAbsolutePath().getParent().resolve("prompts");
        for (int i = 0; i < used; i++) {
            Path p = prompts.resolve(String.format(Locale.ROOT, "%05d.json", i));
            if (!Files.isRegularFile(p)) {
                recorded = null;
                break;
            }
            JsonNode j = Json.read(p);
            if (!j.hasNonNull("id") || !j.hasNonNull("question")) {
                recorded = null;
                break;
            }
            recorded.add(new Problem(j.get("id").asText(), j.get("question").asText(), "", "{}"));
        }
        return Optional.of(new Support(d.path("file").asText("?"), d.path("sha256").asText(""), used, recorded));
    }

    /**
     * A warning when the first {@code limit} (0: all) problems of {@code eval} share problems with
     * the support set of {@code sf}, or when that cannot be checked; empty when they are disjoint
     * or the scores need no support set.
     */
    public static Optional<String> withEvaluation(ScoresFile sf, Dataset eval, int limit) {
        Optional<Support> s = support(sf);
        if (s.isEmpty()) {
            return Optional.empty();
        }
        Support sup = s.get();
        Dataset evalUsed = eval.first(limit);
        Dataset support;
        if (!sup.sha256().isEmpty() && sup.sha256().equals(ModelFingerprint.sha256(eval.source()))) {
            support = eval.first(Math.max(1, sup.used()));
            support = new Dataset("the scores' support set (" + sup.used() + " problems of the same file)", eval.source(), eval.shape(),
                    eval.mapping(), support.problems());
        } else if (sup.recorded() != null) {
            support = new Dataset("the scores' support set (" + sup.file() + ")", eval.source(), eval.shape(), eval.mapping(), sup.recorded());
        } else {
            return Optional.of("cannot check whether " + eval.name() + " overlaps the support set of " + sf.file() + " (" + sup.file()
                    + ", another file whose problems the run does not record); make sure they are disjoint");
        }
        Overlap o = Dataset.disjoint(support, evalUsed);
        return o.isDisjoint() ? Optional.empty() : Optional.of(o.describe() + "; the scores were computed on problems evaluated here");
    }

    /** A warning when {@code prompt} is one of the recorded support questions of {@code sf}. */
    public static Optional<String> withPrompt(ScoresFile sf, String prompt) {
        Optional<Support> s = support(sf);
        if (s.isEmpty() || s.get().recorded() == null) {
            return Optional.empty();
        }
        String q = Dataset.normalizeQuestion(prompt);
        for (Problem p : s.get().recorded()) {
            if (Dataset.normalizeQuestion(p.question()).equals(q)) {
                return Optional.of("the prompt is support problem " + p.id() + " of " + sf.file()
                        + ": the scores were computed on it");
            }
        }
        return Optional.empty();
    }
}
