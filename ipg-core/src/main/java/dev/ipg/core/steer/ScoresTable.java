package dev.ipg.core.steer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.io.Json;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Scores as a plain table for pandas, R or a spreadsheet: one row per component, best first,
 * with the columns {@code site, rank, component, score, method} ({@code rank} counts from 1 in
 * the order of the selection; {@code score} is the float32 value of the scores file, printed
 * exactly). As JSON it is a list of records ({@code pandas.read_json(F)}); as CSV a header line
 * and the rows ({@code pandas.read_csv(F)}).
 *
 * @param scores    the scores file the rows come from
 * @param selection the components listed, in this order
 */
public record ScoresTable(ScoresFile scores, Selection selection) {

    /** Every component of the file, ordered by {@code rank}. */
    public static ScoresTable all(ScoresFile scores, Rank rank) {
        return new ScoresTable(scores, scores.select(new Top.Percent(100), rank));
    }

    /** The rows as a JSON array of records. */
    public ArrayNode json() {
        ArrayNode rows = JsonNodeFactory.instance.arrayNode();
        float[] s = scores.scores();
        int r = 1;
        for (int c : selection.components()) {
            ObjectNode row = rows.addObject();
            row.put("site", selection.site().toString());
            row.put("rank", r++);
            row.put("component", c);
            row.put("score", s[c]);
            row.put("method", scores.method());
        }
        return rows;
    }

    /** The rows as CSV text with a header line. */
    public String csv() {
        StringBuilder b = new StringBuilder("site,rank,component,score,method\n");
        float[] s = scores.scores();
        int r = 1;
        for (int c : selection.components()) {
            b.append(selection.site()).append(',').append(r++).append(',').append(c).append(',')
                    .append(Float.toString(s[c])).append(',').append(csvField(scores.method())).append('\n');
        }
        return b.toString();
    }

    /** Writes the JSON records atomically. */
    public void writeJson(Path file) {
        Json.write(file, json());
    }

    /** Writes the CSV atomically. */
    public void writeCsv(Path file) {
        byte[] bytes = csv().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    private static String csvField(String v) {
        return v.matches("[^,\"\\r\\n]*") ? v : "\"" + v.replace("\"", "\"\"") + "\"";
    }
}
