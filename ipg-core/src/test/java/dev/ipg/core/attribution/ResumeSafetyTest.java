package dev.ipg.core.attribution;

import dev.ipg.core.run.ProgressListener;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.attribution.baselines.RandomBaseline;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.ModelFingerprint;
import dev.ipg.core.io.RunLock;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.signal.Signals;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.testutil.TinyTextModel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What may not be mixed into or clobber a run directory: another model of the same shapes, another
 * tokenizer or chat template, a run recorded without content identity, a second writer; and what
 * must be found before any work: a prompt too long for the context, a non-finite reward. Stale
 * temporary files of a killed run are removed on resume.
 */
class ResumeSafetyTest {

    @TempDir
    static Path tmp;

    static Path data;
    static final Site SITE = new Site(0, Site.Kind.MLP_POST);

    @BeforeAll
    static void setUp() throws IOException {
        data = Files.writeString(tmp.resolve("support.jsonl"), """
                {"question": "What is 2 + 3?", "answer": "2 + 3 = 5\\n#### 5"}
                {"question": "What is 7 - 4?", "answer": "7 - 4 = 3\\n#### 3"}
                {"question": "What is 6 * 2?", "answer": "6 * 2 = 12\\n#### 12"}
                {"question": "What is 9 + 1?", "answer": "9 + 1 = 10\\n#### 10"}
                """);
    }

    /** A fresh copy of the tiny text model (hidden 16, context 96), weights from {@code seed}. */
    static Path model(String name, long seed) {
        return TinyTextModel.write(tmp.resolve(name), seed);
    }

    /** Same-shape weights from another seed moved over the model's weights file. */
    static void swapWeights(Path model, long seed) throws IOException {
        Path other = tmp.resolve("other-" + seed);
        RandomCheckpoint.write(other, new RandomCheckpoint.Spec(Family.QWEN3, TinyTextModel.HIDDEN, 1, 2, 1, 8, TinyTextModel.INTERMEDIATE,
                151680, 96, DType.F32, true, false, false), seed);
        String before = ModelFingerprint.of(model, List.of(model.resolve("model.safetensors")));
        Files.move(other.resolve("model.safetensors"), model.resolve("model.safetensors"), StandardCopyOption.REPLACE_EXISTING);
        // the layout fingerprint alone cannot tell: same config, same header
        assertEquals(before, ModelFingerprint.of(model, List.of(model.resolve("model.safetensors"))));
    }

    /** tokenizer.json with its last BPE merge removed: loads, but splits some text differently. */
    static void swapTokenizer(Path model) {
        ObjectNode t = Json.readObject(model.resolve("tokenizer.json"));
        ArrayNode merges = (ArrayNode) t.get("model").get("merges");
        merges.remove(merges.size() - 1);
        Json.write(model.resolve("tokenizer.json"), t);
    }

    static IpgOptions options() {
        return new IpgOptions(2, 3, 1.5, 1.0, 0, 4, Advantage.RLOO, IpgOptions.BaselineKind.ZERO, IpgOptions.SamplingMode.ON_PATH,
                IpgOptions.Positions.ALL, Quadrature.MIDPOINT, 5);
    }

    static void attribute(Path model, Path dataFile, String signalSpec, Path dir, int limit) {
        try (Parallel pool = Parallel.of(1); Transformer m = Transformer.load(model, KernelsProvider.lookup(), pool);
             Tokenizer tok = Tokenizer.load(model); Signal signal = Signals.parse(signalSpec)) {
            var spec = new AttributionRun.Spec(List.of(SITE), options(), signalSpec, PromptFormat.plain(), 10);
            new AttributionRun(m, tok, Dataset.load(dataFile), signal, spec, Set.of(), dir, ProgressListener.NONE).run(limit);
        }
    }

    static void attribute(Path model, Path dir, int limit) {
        attribute(model, data, "regex:[A-Z]", dir, limit);
    }

    static void eval(Path model, Path dir, int limit) {
        try (Parallel pool = Parallel.of(1); Transformer m = Transformer.load(model, KernelsProvider.lookup(), pool);
             Tokenizer tok = Tokenizer.load(model)) {
            var spec = EvalRun.Spec.of(PromptFormat.plain(), EvalRun.Decoding.greedy(4, 2));
            new EvalRun(m, tok, Dataset.load(data), spec, Set.of(), dir, ProgressListener.NONE).run(limit);
        }
    }

    @Test
    void attributeRefusesToResumeWithOtherWeightsOfTheSameShape() throws IOException {
        Path m = model("attr-weights", 11);
        Path run = tmp.resolve("attr-weights-run");
        attribute(m, run, 2);
        swapWeights(m, 12);
        var e = assertThrows(IpgException.class, () -> attribute(m, run, 4));
        assertTrue(e.getMessage().startsWith(run + ": holds results of a different model: changed since then: the weights "
                + "(model.safetensors); use another output directory"), e.getMessage());
        assertFalse(Files.exists(run.resolve("prompts/00002.json")), "nothing of the new model was written");
    }

    @Test
    void attributeRefusesToResumeWithAnotherTokenizerOrChatTemplate() {
        Path m = model("attr-tok", 13);
        Path run = tmp.resolve("attr-tok-run");
        attribute(m, run, 2);
        swapTokenizer(m);
        var e = assertThrows(IpgException.class, () -> attribute(m, run, 4));
        assertTrue(e.getMessage().contains("changed since then: tokenizer.json;"), e.getMessage());

        Path m2 = model("attr-template", 13);
        Path run2 = tmp.resolve("attr-template-run");
        attribute(m2, run2, 2);
        ObjectNode cfg = Json.readObject(m2.resolve("tokenizer_config.json"));
        cfg.put("chat_template", cfg.get("chat_template").asText() + "{# edited #}");
        Json.write(m2.resolve("tokenizer_config.json"), cfg);
        e = assertThrows(IpgException.class, () -> attribute(m2, run2, 4));
        assertTrue(e.getMessage().contains("changed since then: tokenizer_config.json; the chat template of tokenizer_config.json"),
                e.getMessage());
    }

    @Test
    void evalRefusesToResumeWithOtherWeightsOrAnotherTokenizer() throws IOException {
        Path m = model("eval-weights", 15);
        Path run = tmp.resolve("eval-weights-run");
        eval(m, run, 2);
        long lines = Files.readAllLines(run.resolve(EvalRun.COMPLETIONS)).size();
        swapWeights(m, 16);
        var e = assertThrows(IpgException.class, () -> eval(m, run, 4));
        assertTrue(e.getMessage().contains("holds results of a different model: changed since then: the weights (model.safetensors)"),
                e.getMessage());
        assertEquals(lines, Files.readAllLines(run.resolve(EvalRun.COMPLETIONS)).size(), "no completion of the new model appended");

        Path m2 = model("eval-tok", 15);
        Path run2 = tmp.resolve("eval-tok-run");
        eval(m2, run2, 2);
        swapTokenizer(m2);
        e = assertThrows(IpgException.class, () -> eval(m2, run2, 4));
        assertTrue(e.getMessage().contains("changed since then: tokenizer.json"), e.getMessage());
    }

    @Test
    void aBaselineRefusesToBeRecomputedIntoADirectoryOfOtherWeights() throws IOException {
        Path m = model("random-weights", 17);
        Path run = tmp.resolve("random-run");
        try (Parallel pool = Parallel.of(1); Transformer t = Transformer.load(m, KernelsProvider.lookup(), pool)) {
            RandomBaseline.run(t, SITE, 1, run);
        }
        swapWeights(m, 18);
        try (Parallel pool = Parallel.of(1); Transformer t = Transformer.load(m, KernelsProvider.lookup(), pool)) {
            var e = assertThrows(IpgException.class, () -> RandomBaseline.run(t, SITE, 1, run));
            assertTrue(e.getMessage().contains("changed since then: the weights (model.safetensors)"), e.getMessage());
        }
    }

    @Test
    void aRunRecordedWithoutContentIdentityIsRefusedWithAClearMessage() {
        Path m = model("old", 19);
        Path run = tmp.resolve("old-run");
        attribute(m, run, 1);
        // what ipg wrote before runs recorded the model's content
        ObjectNode cfg = Json.readObject(run.resolve("run-config.json"));
        ((ObjectNode) cfg.get("model")).remove("content");
        Json.write(run.resolve("run-config.json"), cfg);
        var e = assertThrows(IpgException.class, () -> attribute(m, run, 2));
        assertEquals(run + ": the run was recorded by an older ipg that did not identify the model by the content of its weights and "
                + "tokenizer, so its results cannot be safely resumed or extended; use another output directory or delete this one "
                + "to start over", e.getMessage());
    }

    @Test
    void aPromptTooLongForTheContextIsFoundBeforeAnyWork() throws IOException {
        Path m = model("late", 21);
        Path late = Files.writeString(tmp.resolve("late.jsonl"), """
                {"question": "What is 2 + 3?", "answer": "#### 5"}
                {"question": "What is 7 - 4?", "answer": "#### 3"}
                {"question": "%s", "answer": "#### 1"}
                """.formatted("one two three four five six seven eight nine ten ".repeat(12)));
        Path run = tmp.resolve("late-run");
        var e = assertThrows(IpgException.class, () -> attribute(m, late, "regex:[A-Z]", run, 0));
        assertTrue(e.getMessage().startsWith(late + ": line 3 (id late-2): the prompt is "), e.getMessage());
        assertTrue(e.getMessage().contains("context of 96 positions"), e.getMessage());
        assertFalse(Files.exists(run), "nothing was written before the check");
    }

    @Test
    void staleTemporariesOfAKilledRunAreRemovedOnResume() throws IOException {
        Path m = model("stale", 23);
        Path run = tmp.resolve("stale-run");
        attribute(m, run, 1);
        Path staleJson = Files.writeString(run.resolve("prompts/.00005.json.0123456789abcdef.tmp"), "{\"index\"");
        Path staleRun = Files.writeString(run.resolve(".run.json.fedcba9876543210.tmp"), "{");
        Path mine = Files.writeString(run.resolve("notes.txt"), "kept");
        attribute(m, run, 2);
        assertFalse(Files.exists(staleJson));
        assertFalse(Files.exists(staleRun));
        assertTrue(Files.exists(mine));
        assertTrue(Files.exists(run.resolve("prompts/00001.json")));
    }

    @Test
    void aSecondWriterIntoTheSameRunDirectoryIsRefused() throws IOException {
        Path m = model("lock", 25);
        Path run = Files.createDirectories(tmp.resolve("lock-run"));
        try (RunLock held = RunLock.acquire(run)) {
            var e = assertThrows(IpgException.class, () -> attribute(m, run, 1));
            assertTrue(e.getMessage().contains("another ipg process is writing into this run directory"), e.getMessage());
            e = assertThrows(IpgException.class, () -> eval(m, run, 1));
            assertTrue(e.getMessage().contains("another ipg process is writing into this run directory"), e.getMessage());
        }
        assertFalse(Files.exists(run.resolve("run-config.json")), "the refused run wrote nothing");
        attribute(m, run, 1); // free again once the first writer is done
        assertTrue(Files.exists(run.resolve("run.json")));
    }

    @Test
    void rewardsTooLargeToAverageAreRefusedNamingThePrompt() {
        Path m = model("huge", 27);
        Path run = tmp.resolve("huge-run");
        // 1e308 per non-empty completion: finite, but the mean over 3 samples overflows
        var e = assertThrows(IpgException.class, () -> attribute(m, data, "1e308*regex:^.", run, 1));
        assertTrue(e.getMessage().startsWith(data + ": line 1 (id support-0): the IPG estimate at " + SITE + " is not finite"),
                e.getMessage());
        assertFalse(Files.exists(run.resolve("run.json")), "no run.json with NaN in it");
        e = assertThrows(IpgException.class, () -> attribute(m, data, "1e308*length", tmp.resolve("inf-run"), 1));
        assertTrue(e.getMessage().contains("gave a reward of Infinity; rewards must be finite"), e.getMessage());
    }
}
