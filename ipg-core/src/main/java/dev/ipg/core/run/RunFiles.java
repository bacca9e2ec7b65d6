package dev.ipg.core.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.Json;
import java.nio.file.Path;

/**
 * Reading and writing the typed records of run files: one mapper, pretty-printed atomic writes,
 * and reads that turn every problem into one line naming the file. Unknown keys are ignored (a
 * newer ipg may add some); a key the record needs that a file lacks, or a value of the wrong
 * kind, is refused with a message that says the file may predate the format.
 */
public final class RunFiles {

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private RunFiles() {
    }

    /**
     * Reads {@code file} as a {@code type}; {@code what} names the kind of file in messages
     * (e.g. "an attribution prompt file").
     *
     * @throws IpgException naming the file when it is missing, unreadable, not JSON or not of the format
     */
    public static <T> T read(Path file, Class<T> type, String what) {
        return convert(Json.read(file), type, file + " is not " + what);
    }

    /** {@code node} as a {@code type}; {@code context} starts the message when it does not fit. */
    public static <T> T convert(JsonNode node, Class<T> type, String context) {
        try {
            return MAPPER.treeToValue(node, type);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            Throwable cause = e;
            while (cause.getCause() != null && cause.getCause() != cause) {
                cause = cause.getCause();
            }
            String why = cause instanceof JsonProcessingException jp ? Json.clean(jp.getOriginalMessage()) : String.valueOf(cause.getMessage());
            throw new IpgException(context + " of the format this ipg reads (" + why + "); it may have been written by an older "
                    + "version: rerun to rewrite it", e);
        }
    }

    /** The JSON tree of a record. */
    public static JsonNode tree(Object value) {
        return MAPPER.valueToTree(value);
    }

    /** Writes {@code value} to {@code file} atomically, pretty-printed. */
    public static void write(Path file, Object value) {
        Json.write(file, tree(value));
    }

    /** The ipg version that writes run files ({@code dev} outside a packaged build). */
    public static String version() {
        String v = RunFiles.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
