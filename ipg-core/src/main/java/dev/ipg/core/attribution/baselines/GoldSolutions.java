package dev.ipg.core.attribution.baselines;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.data.Problem;

/**
 * The reference chain-of-thought of a problem: GSM8K's {@code answer} field (the worked solution
 * ending in {@code #### N}) with its calculator annotations {@code <<48/2=24>>} removed, or the
 * {@code solution} field of MATH-500 and AIME. With a custom field mapping, the answer field when
 * it is a worked solution (contains {@code ####}), else a {@code solution} field.
 */
public final class GoldSolutions {

    private GoldSolutions() {
    }

    /** The worked solution of {@code p}, a problem of {@code data}. */
    public static String of(Dataset data, Problem p) {
        JsonNode j = p.json();
        String answer = j.path(data.mapping().answer()).asText("");
        String text;
        if (data.shape() == Dataset.Shape.GSM8K || answer.contains("#### ")) {
            text = answer.replaceAll("<<[^<>]*>>", "");
        } else {
            text = j.path("solution").asText("");
        }
        text = text.strip();
        if (text.isEmpty()) {
            throw new IpgException(data.name() + ": problem " + p.id() + " has no worked solution (GSM8K answer or 'solution' field),"
                    + " which this method teacher-forces");
        }
        return text;
    }
}
