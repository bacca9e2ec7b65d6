package dev.ipg.core.signal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.signal.Signal.Weighted.Term;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SignalTest {

    private static Sample sample(String completion, int tokens, String gold) {
        return new Sample("p1", "What is 1/2?", completion, tokens, gold);
    }

    @Test
    void correctComparesTheExtractedAnswerWithTheGold() {
        var correct = new Signal.Correct();
        assertEquals(1.0, correct.reward(sample("Halving gives $\\boxed{0.5}$.", 9, "\\frac12")));
        assertEquals(0.0, correct.reward(sample("Halving gives $\\boxed{2}$.", 9, "\\frac12")));
        assertEquals(1.0, correct.reward(sample("She pays 9 * 2 = 18.\n#### 18", 12, "18")));
        assertEquals(0.0, correct.reward(sample("I cannot tell.", 4, "18")));
    }

    @Test
    void correctWithoutGoldIsAUserError() {
        var e = assertThrows(IpgException.class, () -> new Signal.Correct().reward(sample("\\boxed{1}", 3, null)));
        assertEquals("signal 'correct' needs a gold answer, but sample p1 has none", e.getMessage());
    }

    @Test
    void lengthIsTheGeneratedTokenCount() {
        assertEquals(417.0, new Signal.Length().reward(sample("anything", 417, null)));
    }

    @Test
    void reflectionCountsWholeWordsAndPhrasesIgnoringCase() {
        String text = "Wait, but why? Hmm. Let me double-check... WAIT! awaited butter hmmm double check";
        var paper = new Signal.Reflection(List.of("wait", "but", "double-check", "hmm"));
        // counted: Wait, but, Hmm, double-check, WAIT; not: awaited, butter, hmmm, "double check"
        assertEquals(5.0, paper.reward(sample(text, 20, null)));
        // the default (DeepSeek-R1's reflective terms without "but" and "however"): Wait, check, WAIT, check
        assertEquals(4.0, new Signal.Reflection().reward(sample(text, 20, null)));
        assertEquals(0.0, new Signal.Reflection().reward(sample("But it is 4. However, 5 is more, but not by much.", 20, null)),
                "contrast conjunctions alone are not reflection");
        assertEquals(3.0, new Signal.Reflection().reward(sample("That was a mistake; let me verify. Wrong again.", 20, null)));
        var phrase = new Signal.Reflection(List.of("let me check", "oops"));
        assertEquals(3.0, phrase.reward(sample("Let me  check.\nlet me\ncheck. OOPS, outlet me check", 20, null)));
    }

    @Test
    void regexMatchIsFindOnTheCompletion() {
        var digitsOnly = new Signal.RegexMatch(Pattern.compile("^\\d+$"));
        assertEquals(1.0, digitsOnly.reward(sample("123", 1, null)));
        assertEquals(0.0, digitsOnly.reward(sample("12a", 1, null)));
        assertEquals(1.0, new Signal.RegexMatch(Pattern.compile("\\d")).reward(sample("abc1", 1, null)));
    }

    @Test
    void weightedSumAddsTermsAndBatchesAgree() {
        var w = new Signal.Weighted(List.of(new Term(1, new Signal.Correct()), new Term(0.001, new Signal.Length()),
                new Term(-0.01, new Signal.Reflection())));
        var right = sample("Wait, hmm. \\boxed{1/2}", 500, "0.5");
        var wrong = sample("but \\boxed{2}", 40, "0.5");
        assertEquals(1 + 0.5 - 0.01, w.reward(right), 1e-12); // "Wait" (hmm is not a default word)
        assertEquals(0 + 0.04 - 0, w.reward(wrong), 1e-12);   // "but" is not either
        assertArrayEquals(new double[] {w.reward(right), w.reward(wrong)}, w.rewards(List.of(right, wrong)), 0);
        assertEquals("correct + 0.001*length - 0.01*reflection", w.spec());
    }

    @Test
    void specsDescribeTheSignals() {
        assertEquals("correct", new Signal.Correct().spec());
        assertEquals("length", new Signal.Length().spec());
        assertEquals("reflection", new Signal.Reflection().spec());
        assertEquals("reflection:wait,let me see", new Signal.Reflection(List.of("wait", "let me see")).spec());
        assertEquals("regex:^\\d+$", new Signal.RegexMatch(Pattern.compile("^\\d+$")).spec());
        assertEquals("-2*length", new Signal.Weighted(List.of(new Term(-2, new Signal.Length()))).spec());
    }

    @Test
    void sampleRejectsImpossibleValues() {
        assertThrows(NullPointerException.class, () -> new Sample("a", "p", null, 0, "g"));
        assertThrows(IllegalArgumentException.class, () -> new Sample("a", "p", "c", -1, "g"));
        assertTrue(new Sample("a", null, "", 0, null).completion().isEmpty());
    }
}
