package dev.ipg.core.data;

import dev.ipg.core.IpgException;
import java.util.Objects;

/**
 * Which JSON fields of a dataset line hold the question, the answer and (optionally) the id.
 * Written on the command line as {@code question=problem,answer=answer,id=unique_id}.
 *
 * @param question field holding the question
 * @param answer   field holding the answer; a value containing {@code "#### "} is read the
 *                 GSM8K way (the text after the last {@code "#### "}, commas removed)
 * @param id       field holding the id, or {@code null} for {@code <file-stem>-<index>}
 */
public record FieldMapping(String question, String answer, String id) implements java.io.Serializable {

    /** GSM8K: question/answer, no id field. */
    public static final FieldMapping GSM8K = new FieldMapping("question", "answer", null);
    /** MATH-500: problem/answer/unique_id. */
    public static final FieldMapping MATH500 = new FieldMapping("problem", "answer", "unique_id");
    /** AIME-2024: problem/answer/id. */
    public static final FieldMapping AIME = new FieldMapping("problem", "answer", "id");

    public FieldMapping {
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(answer, "answer");
    }

    /**
     * Parses {@code question=F,answer=G[,id=H]} (keys in any order, each at most once). A bad
     * spec is an {@link IpgException}.
     */
    public static FieldMapping parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IpgException("empty field mapping; expected question=FIELD,answer=FIELD[,id=FIELD]");
        }
        String question = null, answer = null, id = null;
        for (String part : spec.split(",", -1)) {
            int eq = part.indexOf('=');
            String key = eq < 0 ? part.strip() : part.substring(0, eq).strip();
            String value = eq < 0 ? "" : part.substring(eq + 1).strip();
            if (value.isEmpty()) {
                throw bad(spec, "'" + key + "' needs a field name (" + key + "=FIELD)");
            }
            switch (key) {
                case "question" -> question = once(spec, key, question, value);
                case "answer" -> answer = once(spec, key, answer, value);
                case "id" -> id = once(spec, key, id, value);
                default -> throw bad(spec, "unknown key '" + key + "'");
            }
        }
        if (question == null || answer == null) {
            throw bad(spec, "both question= and answer= are required");
        }
        return new FieldMapping(question, answer, id);
    }

    private static String once(String spec, String key, String old, String value) {
        if (old != null) {
            throw bad(spec, "'" + key + "' given twice");
        }
        return value;
    }

    private static IpgException bad(String spec, String what) {
        return new IpgException("bad field mapping '" + spec + "': " + what
                + "; expected question=FIELD,answer=FIELD[,id=FIELD]");
    }

    /** The mapping in its command-line form. */
    @Override
    public String toString() {
        return "question=" + question + ",answer=" + answer + (id == null ? "" : ",id=" + id);
    }
}
