package dev.ipg.core.signal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.signal.AnswerExtractor.Extracted;
import dev.ipg.core.signal.AnswerExtractor.Rule;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AnswerExtractorTest {

    private static Extracted find(String text) {
        return AnswerExtractor.find(text).orElseThrow(() -> new AssertionError("nothing found in " + text));
    }

    @Test
    void lastBoxWinsAndKeepsNestedBraces() {
        assertEquals(new Extracted("3", Rule.BOXED), find("first \\boxed{\\frac{1}{2}}, finally $\\boxed{3}$."));
        assertEquals("\\frac{a}{b+\\sqrt{2}}", find("so \\boxed{\\frac{a}{b+\\sqrt{2}}}").answer());
        assertEquals("\\{1,2\\}", find("the set is \\boxed{\\{1,2\\}}").answer());
        assertEquals("12", find("\\fbox{12} done").answer());
        assertEquals("7", find("$\\boxed 7$").answer());
    }

    @Test
    void unclosedLastBoxFallsBackToThePreviousOne() {
        assertEquals("5", find("\\boxed{5} but then \\boxed{6").answer());
    }

    @Test
    void boxBeatsHashesWhichBeatPhraseWhichBeatsLastNumber() {
        assertEquals(new Extracted("1", Rule.BOXED), find("\\boxed{1}\n#### 2\nThe answer is 3. 4"));
        assertEquals(new Extracted("2", Rule.HASHES), find("#### 2\nThe answer is 3. 4"));
        assertEquals(new Extracted("3", Rule.PHRASE), find("The answer is 3. Then 4"));
        assertEquals(new Extracted("4", Rule.LAST_NUMBER), find("We add 3 and 1 to get 4"));
    }

    @Test
    void hashesTakeTheRestOfTheLine() {
        assertEquals("1,234", find("Work <<2*617=1234>>\n#### 1,234\n").answer());
        assertEquals("-10", find("a\n####-10").answer());
    }

    @Test
    void answerPhrasesOfSeveralShapes() {
        assertEquals("\\frac{3}{4}", find("The final answer is $\\frac{3}{4}$. I hope").answer());
        assertEquals("42", find("**Answer:** 42").answer());
        assertEquals("3.5", find("So the answer is 3.5.").answer());
        assertEquals("\\$32,\\!348", find("the answer is $\\$32,\\!348$.").answer());
        assertEquals("x+1", find("Answer = \\(x+1\\) as required").answer());
        assertEquals("18 dollars", find("First the answer: 5.\nThe answer is 18 dollars.").answer());
    }

    @Test
    void lastNumberHandlesSignsThousandsDecimalsAndFractions() {
        assertEquals("7/8", find("3 apples, 1,250 pears, total -4.5 or 7/8").answer());
        assertEquals("1,250", find("3 apples and 1,250 pears, in all.").answer());
        assertEquals("-4.5", find("the change is -4.5").answer());
        assertEquals("4", find("pages 3-4").answer());
        assertEquals("-12", find("so x = -12.").answer());
        assertEquals("2345", find("1,2345").answer());
        assertEquals(".5", find("half is .5").answer());
        assertEquals(Optional.empty(), AnswerExtractor.extract("no digits here"));
        assertEquals(Optional.empty(), AnswerExtractor.extract(null));
    }

    @Test
    void extractedAnswersCompareWithGold() {
        assertTrue(AnswerEquivalence.equivalent(AnswerExtractor.extract("so $\\boxed{\\dfrac{1}{2}}$").orElseThrow(), "0.5"));
        assertTrue(AnswerEquivalence.equivalent(AnswerExtractor.extract("The answer is $18.00.").orElseThrow(), "18"));
    }
}
