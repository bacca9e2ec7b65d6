package dev.ipg.core.signal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AnswerEquivalenceTest {

    @ParameterizedTest(name = "{0} == {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            0.5                                  | \\frac12
            0.5                                  | \\frac{1}{2}
            .5                                   | 1/2
            0.50                                 | \\dfrac{1}{2}
            \\tfrac 12                           | 2/4
            -\\frac{3}{8}                        | -0.375
            \\frac{-3}{8}                        | -3/8
            1,234                                | 1234
            1,450,000                            | 1450000
            10,\\!080                            | 10080
            11,\\! 111,\\! 111,\\! 100           | 11111111100
            \\$32,\\!348                         | 32348
            $18.90                               | 18.9
            \\$36                                | 36 dollars
            50\\%                                | 50
            50%                                  | 50
            18 dollars                           | 18
            5 cm.                                | 5
            5.4 \\text{ cents}                   | 5.4
            864 \\mbox{ inches}^2                | 864
            15\\mbox{ cm}^2                      | 15 cm
            90^\\circ                            | 90
            90°                                  | 90
            90^{\\circ}                          | 90 degrees
            \\frac{270}7\\text{ degrees}         | \\frac{270}{7}
            42.                                  | 42
            025                                  | 25
            3.0                                  | 3
            +7                                   | 7
            −5                                   | -5
            1\\frac{4}{5}                        | 9/5
            137 \\frac{1}{2}                     | 137.5
            \\text{Evelyn}                       | evelyn
            \\text{East}                         | east
            \\text{(C)}                          | C
            (C)                                  | C
            \\textbf{(113) }                     | 113
            \\sqrt{2}                            | \\sqrt2
            11\\sqrt2                            | 11 \\sqrt{2}
            \\frac{\\sqrt{3}}{3}                 | \\dfrac{\\sqrt3}3
            \\frac\\pi2                          | \\frac{\\pi}{2}
            x=5                                  | 5
            y = 2x + 3                           | 2x+3
            x \\in [-2,7]                        | [-2, 7]
            4210_{5}                             | 4210_5
            \\left( 3, \\frac{\\pi}{2} \\right)  | (3,\\frac\\pi2)
            (0.5, -2)                            | (\\frac{1}{2}, -2)
            (3,4]                                | \\left( 3, 4 \\right]
            `1,-2`                               | `-2, 1`
            `3, 5, 7`                            | `7,5,3`
            \\{1\\pm\\sqrt{5},-2\\}              | `-2, 1 \\pm \\sqrt5`
            (0,9) \\cup (9,36)                   | (0, 9)\\cup(9, 36)
            \\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix} | \\begin{pmatrix} -\\frac13 \\\\ \\frac{2}{3} \\\\ \\frac53 \\end{pmatrix}
            \\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}     | \\begin{bmatrix}-1&0\\\\0&-1\\end{bmatrix}
            \\boxed{12}                          | 12
            $\\displaystyle \\frac{1}{4}$        | 0.25
            \\( 7 \\)                            | 7
            x \\ge 3                             | x\\geq3
            """)
    void equivalentAnswers(String a, String b) {
        assertTrue(AnswerEquivalence.equivalent(a, b), a + " vs " + b);
        assertTrue(AnswerEquivalence.equivalent(b, a), "not symmetric: " + b + " vs " + a);
    }

    @ParameterizedTest(name = "{0} != {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            1/2                                  | 2
            12                                   | 1.2
            \\frac{1}{3}                         | 0.33
            0.333333                             | \\frac13
            -5                                   | 5
            12                                   | 21
            2k                                   | 2
            52_8                                 | 52
            x^2                                  | x^3
            \\sqrt{2}                            | 2
            3\\pi                                | 3
            2 pi                                 | 2
            (1,2)                                | (2,1)
            [1,2)                                | (1,2)
            `1,2`                                | `1,2,3`
            \\{1,2\\}                            | \\{1,3\\}
            50%                                  | 0.5
            \\frac{1}{\\sqrt{3}}                 | \\frac{\\sqrt{3}}{3}
            \\begin{pmatrix}1\\\\2\\end{pmatrix} | \\begin{pmatrix}2\\\\1\\end{pmatrix}
            \\begin{pmatrix}1\\\\2\\end{pmatrix} | (1,2)
            (0,9) \\cup (9,36)                   | (9,36) \\cup (0,9)
            \\text{Evelyn}                       | \\text{Navin}
            1/0                                  | 2/0
            """)
    void differentAnswers(String a, String b) {
        assertFalse(AnswerEquivalence.equivalent(a, b), a + " vs " + b);
        assertFalse(AnswerEquivalence.equivalent(b, a), b + " vs " + a);
    }

    @Test
    void missingOrEmptyAnswersMatchNothing() {
        assertFalse(AnswerEquivalence.equivalent(null, "1"));
        assertFalse(AnswerEquivalence.equivalent("1", null));
        assertFalse(AnswerEquivalence.equivalent("", ""));
        assertFalse(AnswerEquivalence.equivalent("$ $", "$$"));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            \\left( 3, \\frac{\\pi}{2} \\right)  | (3,\\frac{\\pi}{2})
            10,\\!080                            | 10080
            \\text{(C)}                          | C
            \\frac 59                            | \\frac{5}{9}
            \\dfrac{17}{50}                      | \\frac{17}{50}
            \\cot x                              | \\cot x
            864 \\mbox{ inches}^2                | 864
            x \\in [-2,7]                        | [-2,7]
            6 - 5i                               | 6-5i
            4210_{5}                             | 4210_5
            `3, 5, 7`                            | `3,5,7`
            5x - 7y + 11z + 4 = 0                | 5x-7y+11z+4=0
            \\$18.90.                            | 18.90
            """)
    void normalizesToCanonicalForm(String answer, String canonical) {
        assertEquals(canonical, AnswerEquivalence.normalize(answer));
    }
}
