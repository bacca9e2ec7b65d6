package dev.ipg.core.signal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.data.Problem;
import dev.ipg.core.tokenize.ChatMessage;
import dev.ipg.core.tokenize.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** R1-style think blocks: the answer after them, thinking and answer lengths apart, with the real Qwen3 template. */
class ThinkingTest {

    static Path qwen3() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("mvnw"))) {
            dir = dir.getParent();
        }
        Path q = dir == null ? null : dir.resolveSibling("shared").resolve("fixtures/tokenizers/qwen3");
        if (q == null || !Files.isRegularFile(q.resolve("tokenizer_config.json"))) {
            throw new AssertionError("../shared/fixtures/tokenizers/qwen3 is missing next to the repository");
        }
        return q;
    }

    @Test
    void splitsTheThinkBlockFromTheAnswer() {
        var none = Thinking.split(null, "6 * 7 = 42");
        assertEquals(new Thinking(Thinking.State.NONE, "", "6 * 7 = 42"), none);
        var closed = Thinking.split(null, "<think>\nSo the answer is 41? Wait, 6 * 7 = 42.\n</think>\n\nThe result is 42.");
        assertEquals(new Thinking(Thinking.State.CLOSED, "So the answer is 41? Wait, 6 * 7 = 42.", "The result is 42."), closed);
        var unclosed = Thinking.split(null, "<think>\nLet me see, the answer is 41");
        assertEquals(new Thinking(Thinking.State.UNCLOSED, "Let me see, the answer is 41", ""), unclosed);
        // DeepSeek-R1 templates open the block in the prompt: the completion starts inside it
        String r1Prompt = "<｜begin▁of▁sentence｜><｜User｜>What is 6 * 7?<｜Assistant｜><think>\n";
        assertTrue(Thinking.opensThinking(r1Prompt));
        assertEquals(new Thinking(Thinking.State.CLOSED, "6 * 7 = 42.", "\\boxed{42}"), Thinking.split(r1Prompt, "6 * 7 = 42.\n</think>\n\n\\boxed{42}"));
        assertEquals(Thinking.State.UNCLOSED, Thinking.split(r1Prompt, "6 * 7 is, hmm, 42").state());
        // answers are looked for after the block only; an unfinished block has none
        assertEquals(Optional.of("42"), AnswerExtractor.extract("<think>\nSo the answer is 41? Wait, 6 * 7 = 42.\n</think>\n\nThe result is 42."));
        assertEquals(Optional.of("41? Wait, 6 * 7 = 42"), AnswerExtractor.extract("So the answer is 41? Wait, 6 * 7 = 42.\n\nThe result is 42."),
                "without the tags the phrase rule reads the draft in the reasoning");
        assertEquals(Optional.empty(), AnswerExtractor.extract("<think>\nLet me see, the answer is 41"));
        assertEquals(Optional.empty(), AnswerExtractor.extract(r1Prompt, "6 * 7 is, hmm, 42"));
        assertEquals(Optional.of("42"), AnswerExtractor.extract(r1Prompt, "6 * 7 is 41, no.\n</think>\nIt is 42."));
    }

    @Test
    void qwen3TemplateCompletionsAreScoredAfterTheThinkBlockWithBothLengths() {
        try (Tokenizer tok = Tokenizer.load(qwen3())) {
            var msgs = List.of(new ChatMessage("user", "What is 6 * 7?"));
            String thinkingPrompt = tok.chatTemplate().render(msgs, true, Map.of());
            String plainPrompt = tok.chatTemplate().render(msgs, true, Map.of("enable_thinking", false));
            assertTrue(thinkingPrompt.endsWith("<|im_start|>assistant\n"), thinkingPrompt);
            assertTrue(plainPrompt.endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n"), plainPrompt);
            assertTrue(!Thinking.opensThinking(thinkingPrompt) && !Thinking.opensThinking(plainPrompt));

            String text = "<think>\nThe user asks 6 * 7. The answer is 41? Wait, let me check: 6 * 7 = 42.\n</think>\n\nThe result is **42**.";
            int[] ids = tok.encode(text, false);
            int close = -1;
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] == 151668) { // </think>, an added token of Qwen3's vocabulary
                    close = i;
                }
            }
            assertTrue(close > 0 && ids[0] == 151667, "<think> and </think> are single tokens");
            Sample s = Sample.of("q", thinkingPrompt, ids, t -> tok.decode(t, true), "42");
            assertEquals(text, s.completion(), "the think tags are not special tokens: decoding keeps them");
            assertEquals(close + 1, s.thinkingTokens(), "the think block ends with its closing token");
            assertEquals(1.0, new Signal.Correct().reward(s));
            assertEquals(close + 1, new Signal.Length(Signal.Length.Part.THINKING).reward(s));
            assertEquals(ids.length - close - 1, new Signal.Length(Signal.Length.Part.ANSWER).reward(s));
            assertEquals(ids.length, new Signal.Length().reward(s));
            assertEquals(Signals.parse("length:thinking"), new Signal.Length(Signal.Length.Part.THINKING));
            assertEquals("length:answer", Signals.parse("length:answer").spec());
            assertThrows(IpgException.class, () -> Signals.parse("length:prompt"));

            // eval's completions and summary: thinking and answer tokens apart
            Problem p = new Problem("q", "What is 6 * 7?", "42", "{}");
            var refl = new Signal.Reflection();
            EvalRun.Item closed = EvalRun.score(0, p, s, ids, "eos", refl);
            assertEquals("42", closed.answer());
            assertEquals("closed", closed.think());
            assertEquals(close + 1, closed.thinkingTokens());
            assertEquals(ids.length - close - 1, closed.answerTokens());
            assertEquals(2, closed.reflectionWords(), "wait, check");
            int[] cut = java.util.Arrays.copyOf(ids, close - 3); // stopped while thinking
            EvalRun.Item unclosed = EvalRun.score(1, p, Sample.of("q", thinkingPrompt, cut, t -> tok.decode(t, true), "42"), cut,
                    "max_tokens", refl);
            assertEquals(null, unclosed.answer(), "no answer inside an unfinished think block");
            assertEquals("unclosed", unclosed.think());
            assertEquals(cut.length, unclosed.thinkingTokens());
            int[] direct = tok.encode("6 * 7 = 42. The answer is 42.", false);
            EvalRun.Item none = EvalRun.score(2, p, Sample.of("q", plainPrompt, direct, t -> tok.decode(t, true), "42"), direct, "eos", refl);
            assertEquals("none", none.think());
            assertEquals(0, none.thinkingTokens());
            assertTrue(none.correct());
            var sum = EvalRun.summarize(List.of(closed, unclosed, none));
            assertEquals(Map.of("none", 1, "closed", 1, "unclosed", 1), sum.thinkBlocks());
            assertEquals((close + 1 + cut.length) / 3.0, sum.meanThinkingTokens(), 1e-12);
            assertEquals((ids.length - close - 1 + direct.length) / 3.0, sum.meanAnswerTokens(), 1e-12);
            assertEquals(sum.meanGeneratedTokens(), sum.meanThinkingTokens() + sum.meanAnswerTokens(), 1e-12);
            assertEquals(2, sum.correct());
            assertArrayEquals(ids, closed.tokens());
        }
    }

    @Test
    void aClosedBlockWithoutItsTokenBoundaryIsNotGuessed() {
        Sample s = new Sample("q", null, "<think>a</think>b", 5, "b");
        assertEquals(-1, s.thinkingTokens());
        assertEquals(0, new Sample("q", null, "no block", 5, "b").thinkingTokens());
        assertEquals(5, new Sample("q", null, "<think>never closed", 5, "b").thinkingTokens());
        var e = assertThrows(IpgException.class, () -> new Signal.Length(Signal.Length.Part.ANSWER).reward(s));
        assertTrue(e.getMessage().contains("length:answer"), e.getMessage());
    }
}
