package dev.ipg.core.data;

import java.util.List;

/**
 * What two datasets share: ids present in both, and pairs of problems whose questions are
 * identical after normalization (Unicode NFKC, lower case, runs of whitespace as one space).
 *
 * @param first         name of the first dataset
 * @param second        name of the second dataset
 * @param sharedIds     ids present in both, in the first dataset's order
 * @param sameQuestions problems with the same normalized question
 */
public record Overlap(String first, String second, List<String> sharedIds, List<SameQuestion> sameQuestions) {

    /** A problem of the first dataset and one of the second with the same question. */
    public record SameQuestion(String firstId, String secondId) {}

    public Overlap {
        sharedIds = List.copyOf(sharedIds);
        sameQuestions = List.copyOf(sameQuestions);
    }

    /** Whether nothing is shared. */
    public boolean isDisjoint() {
        return sharedIds.isEmpty() && sameQuestions.isEmpty();
    }

    /** One line: "X and Y are disjoint" or what they share, with the first few examples. */
    public String describe() {
        if (isDisjoint()) {
            return first + " and " + second + " are disjoint";
        }
        var sb = new StringBuilder(first).append(" and ").append(second).append(" overlap:");
        if (!sharedIds.isEmpty()) {
            sb.append(' ').append(sharedIds.size()).append(" shared id").append(sharedIds.size() == 1 ? "" : "s")
                    .append(" (").append(String.join(", ", sharedIds.subList(0, Math.min(3, sharedIds.size()))))
                    .append(sharedIds.size() > 3 ? ", ..." : "").append(')');
        }
        if (!sameQuestions.isEmpty()) {
            if (!sharedIds.isEmpty()) {
                sb.append(',');
            }
            sb.append(' ').append(sameQuestions.size()).append(" identical question")
                    .append(sameQuestions.size() == 1 ? "" : "s").append(" (");
            for (int i = 0; i < Math.min(3, sameQuestions.size()); i++) {
                var q = sameQuestions.get(i);
                sb.append(i > 0 ? ", " : "").append(q.firstId()).append(" = ").append(q.secondId());
            }
            sb.append(sameQuestions.size() > 3 ? ", ..." : "").append(')');
        }
        return sb.toString();
    }
}
