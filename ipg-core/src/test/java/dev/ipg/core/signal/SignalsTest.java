package dev.ipg.core.signal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.signal.Signal.Weighted.Term;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SignalsTest {

    @Test
    void singleAtoms() {
        assertInstanceOf(Signal.Correct.class, Signals.parse("correct"));
        assertInstanceOf(Signal.Correct.class, Signals.parse("  CORRECT "));
        assertInstanceOf(Signal.Length.class, Signals.parse("length"));
        assertEquals(new Signal.Reflection(), Signals.parse("reflection"));
        assertEquals(new Signal.Reflection(List.of("wait", "hmm")), Signals.parse("reflection:wait,hmm"));
        assertEquals(new Signal.Reflection(List.of("double-check", "let me see")),
                Signals.parse("reflection: double-check , let me see"));
        assertEquals(new Signal.Length(), Signals.parse("1.0*length"));
    }

    @Test
    void regexTakesTheRestOfTheSpecVerbatim() {
        var r = assertInstanceOf(Signal.RegexMatch.class, Signals.parse("regex:^\\d+$"));
        assertEquals("^\\d+$", r.pattern().pattern());
        var sum = assertInstanceOf(Signal.Weighted.class, Signals.parse("correct + 0.5*regex:a+ - b"));
        assertEquals(2, sum.terms().size());
        assertEquals(0.5, sum.terms().get(1).weight());
        assertEquals("a+ - b", ((Signal.RegexMatch) sum.terms().get(1).signal()).pattern().pattern());
    }

    @Test
    void externalTakesTheRestOfTheSpecAndStartsNothingUntilUsed() {
        try (var s = Signals.parse("external:  python3 verify.py --bonus=1+2 -v ")) {
            var e = assertInstanceOf(External.class, s);
            assertEquals("python3 verify.py --bonus=1+2 -v", e.command());
            assertEquals("external:python3 verify.py --bonus=1+2 -v", e.spec());
        }
        try (var s = Signals.parse("0.5*correct-2*external:./v.sh a-b")) {
            var w = assertInstanceOf(Signal.Weighted.class, s);
            assertEquals(-2, w.terms().get(1).weight());
            assertEquals("./v.sh a-b", ((External) w.terms().get(1).signal()).command());
        }
    }

    @Test
    void weightedSums() {
        assertEquals(new Signal.Weighted(List.of(new Term(1, new Signal.Correct()), new Term(0.001, new Signal.Length()))),
                Signals.parse("correct+0.001*length"));
        assertEquals(new Signal.Weighted(List.of(new Term(1, new Signal.Correct()), new Term(-0.01, new Signal.Reflection()))),
                Signals.parse("1.0*correct-0.01*reflection"));
        assertEquals(new Signal.Weighted(List.of(new Term(-1, new Signal.Length()))), Signals.parse("-length"));
        assertEquals(new Signal.Weighted(List.of(new Term(0.001, new Signal.Length()))), Signals.parse("1e-3 * length"));
        assertEquals(new Signal.Weighted(List.of(new Term(2, new Signal.Correct()), new Term(-1, new Signal.Length()),
                        new Term(0.5, new Signal.Length()))),
                Signals.parse("2*correct - length + .5*length"));
    }

    @Test
    void reflectionWordsEndAtAnOperator() {
        var w = assertInstanceOf(Signal.Weighted.class, Signals.parse("reflection:wait,double-check-0.5*length"));
        assertEquals(new Signal.Reflection(List.of("wait", "double-check")), w.terms().get(0).signal());
        assertEquals(-0.5, w.terms().get(1).weight());
        var v = assertInstanceOf(Signal.Weighted.class, Signals.parse("reflection:hmm + correct"));
        assertEquals(new Signal.Reflection(List.of("hmm")), v.terms().get(0).signal());
    }

    @ParameterizedTest
    @ValueSource(strings = {"correct", "reflection:wait,let me see", "correct + 0.001*length - 0.01*reflection",
            "-2*length", "length + regex:^(a|b)+$", "correct - 0.5*external:sh -c 'echo 1'"})
    void specRoundTrips(String spec) {
        try (var s = Signals.parse(spec)) {
            assertEquals(spec, s.spec());
            try (var again = Signals.parse(s.spec())) {
                assertEquals(s.spec(), again.spec());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "corect", "correct+", "correct*2", "0.5length", "correct length", "regex:(",
            "regex:", "external:", "external:   ", "reflection:", "reflection:wait,,hmm", "correct:x", "+", "0.5*",
            "regex", "external", "correct + 0.5 * ", "3", "correct\n+ bogus"})
    void badSpecsAreOneLineUserErrors(String spec) {
        var e = assertThrows(IpgException.class, () -> Signals.parse(spec));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("signal spec"), e.getMessage());
    }

    @Test
    void messagesSayWhatIsWrong() {
        assertEquals("bad signal spec 'correct+corect' at position 9: unknown signal 'corect'; expected correct, "
                        + "length[:thinking|:answer], reflection[:WORDS], regex:PATTERN, external:COMMAND or reward-model:DIR",
                assertThrows(IpgException.class, () -> Signals.parse("correct+corect")).getMessage());
        assertEquals("bad signal spec '0.5length' at position 4: expected '*' after the weight 0.5",
                assertThrows(IpgException.class, () -> Signals.parse("0.5length")).getMessage());
        assertTrue(assertThrows(IpgException.class, () -> Signals.parse("regex:(a"))
                .getMessage().startsWith("bad regular expression in signal spec 'regex:(a': Unclosed group"));
    }
}
