package dev.ipg.core.signal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Extraction and equivalence on the real benchmark files: every gold answer must match itself
 * (plain, boxed, after {@code ####}, after "The answer is"), and the reference solutions must
 * yield their gold answers.
 */
class RealDataAnswersTest {

    private static final String[] GSM8K = {"gsm8k/test.jsonl", "gsm8k/train.jsonl"};

    /** The GSM8K gold: text after the last "#### ", commas removed (the dataset's convention). */
    private static String gsm8kGold(JsonNode line) {
        String answer = line.get("answer").asText();
        return answer.substring(answer.lastIndexOf("#### ") + 5).strip().replace(",", "");
    }

    private static List<String> golds() {
        var golds = new ArrayList<String>();
        for (String f : GSM8K) {
            SharedData.lines(f).forEach(l -> golds.add(gsm8kGold(l)));
        }
        SharedData.lines("math500/test.jsonl").forEach(l -> golds.add(l.get("answer").asText()));
        SharedData.lines("aime24/test.jsonl").forEach(l -> golds.add(l.get("answer").asText()));
        return golds;
    }

    @Test
    void everyGoldAnswerIsEquivalentToItselfPlainBoxedAndAfterMarkers() {
        var golds = golds();
        assertEquals(1319 + 7473 + 500 + 30, golds.size());
        var failures = new ArrayList<String>();
        for (String gold : golds) {
            check(failures, gold, gold, "plain");
            check(failures, AnswerExtractor.extract("So we get $\\boxed{" + gold + "}$.").orElse(null), gold, "boxed");
            check(failures, AnswerExtractor.extract("Thus \\fbox{" + gold + "}").orElse(null), gold, "fbox");
            if (!gold.contains("\n")) {
                check(failures, AnswerExtractor.extract("work\n#### " + gold).orElse(null), gold, "####");
                check(failures, AnswerExtractor.extract("Therefore, the answer is $" + gold + "$.").orElse(null),
                        gold, "phrase");
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " failures, e.g. " + failures.subList(0, Math.min(10, failures.size())));
    }

    private static void check(List<String> failures, String predicted, String gold, String how) {
        if (!AnswerEquivalence.equivalent(predicted, gold)) {
            failures.add(how + ": " + predicted + " vs " + gold);
        }
    }

    @Test
    void gsm8kReferenceSolutionsYieldTheirGold() {
        int total = 0, right = 0, rightWithoutMarker = 0;
        var failures = new ArrayList<String>();
        for (String f : GSM8K) {
            for (var line : SharedData.lines(f)) {
                total++;
                String solution = line.get("answer").asText();
                String gold = gsm8kGold(line);
                var found = AnswerExtractor.find(solution).orElseThrow();
                if (found.rule() == AnswerExtractor.Rule.HASHES && AnswerEquivalence.equivalent(found.answer(), gold)) {
                    right++;
                } else {
                    failures.add(found + " vs " + gold);
                }
                // without the final "#### X" line only the last-number rule can find it
                String body = solution.substring(0, solution.lastIndexOf("####"));
                if (AnswerEquivalence.equivalent(AnswerExtractor.extract(body).orElse(null), gold)) {
                    rightWithoutMarker++;
                }
            }
        }
        double rate = (double) right / total;
        double fallback = (double) rightWithoutMarker / total;
        System.out.printf("GSM8K reference solutions: %d/%d = %.4f via ####; %d/%d = %.4f without the #### line%n",
                right, total, rate, rightWithoutMarker, total, fallback);
        assertEquals(8792, total);
        assertTrue(rate >= 0.99, "rate " + rate + ", e.g. " + failures.subList(0, Math.min(10, failures.size())));
        assertEquals(8792, right, "failures: " + failures);
        assertTrue(fallback >= FALLBACK_FLOOR, "last-number rate " + fallback);
    }

    /** Measured 8542/8792 = 0.9716 with the last-number rule alone. */
    private static final double FALLBACK_FLOOR = 0.97;

    @Test
    void math500SolutionsYieldTheirGold() {
        solutionsYieldTheirGold("math500/test.jsonl", "MATH-500", 500, MATH_FLOOR);
    }

    /** The answer extracted from each item's reference solution is equivalent to its gold answer. */
    private static void solutionsYieldTheirGold(String file, String label, int expectedItems, double floor) {
        int total = 0, right = 0;
        var failures = new ArrayList<String>();
        for (var line : SharedData.lines(file)) {
            total++;
            String gold = line.get("answer").asText();
            var found = AnswerExtractor.find(line.get("solution").asText());
            if (found.isPresent() && AnswerEquivalence.equivalent(found.get().answer(), gold)) {
                right++;
            } else {
                failures.add(found.map(Object::toString).orElse("none") + " vs " + gold);
            }
        }
        double rate = (double) right / total;
        System.out.printf("%s solutions: %d/%d = %.4f%n", label, right, total, rate);
        failures.forEach(x -> System.out.println("  " + x));
        assertEquals(expectedItems, total);
        assertTrue(rate >= floor, "rate " + rate);
    }

    /** Measured 500/500: the gold is the content of the solution's last box in every item. */
    private static final double MATH_FLOOR = 1.0;

    @Test
    void aimeSolutionsYieldTheirGold() {
        solutionsYieldTheirGold("aime24/test.jsonl", "AIME-2024", 30, AIME_FLOOR);
    }

    /**
     * Measured 29/30: the one miss (id 60) has no box and ends with a signature, "-sepehr2010",
     * so the last number is 2010.
     */
    private static final double AIME_FLOOR = 29.0 / 30;
}
