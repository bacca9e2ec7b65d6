package dev.ipg.core.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Objects;

/**
 * One problem of a {@link Dataset}.
 *
 * @param id       unique within its dataset: the id field, else {@code <file-stem>-<index>}
 * @param question the question text given to the model
 * @param gold     the gold final answer (for GSM8K the text after {@code ####}, commas removed)
 * @param raw      the problem's JSONL line as read, with every field (subject, level, ...)
 * @param line     its line number in the file (from 1), or 0 when it did not come from a file
 */
public record Problem(String id, String question, String gold, String raw, int line) implements java.io.Serializable {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    public Problem {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(gold, "gold");
        Objects.requireNonNull(raw, "raw");
    }

    /** A problem that did not come from a file line. */
    public Problem(String id, String question, String gold, String raw) {
        this(id, question, gold, raw, 0);
    }

    /** The raw line parsed as JSON (a fresh tree on each call). */
    public JsonNode json() {
        try {
            return JSON.readTree(raw);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("raw line of problem " + id + " is not JSON", e);
        }
    }
}
