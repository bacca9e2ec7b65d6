package dev.ipg.core.io;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * JSON for checkpoint files ({@code config.json}, {@code model.safetensors.index.json},
 * safetensors headers): one shared, never reconfigured Jackson mapper, reads that turn every
 * problem into a one-line {@link IpgException} naming the file, and an atomic
 * pretty-printed write.
 */
public final class Json {

    // Immutable once built; readers and writers derived from it are immutable too.
    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final ObjectReader LENIENT = MAPPER.reader();
    private static final ObjectReader STRICT = MAPPER.reader().with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final ObjectWriter PRETTY = MAPPER.writerWithDefaultPrettyPrinter();
    private static final ObjectWriter COMPACT = MAPPER.writer();

    private Json() {
    }

    /** A new empty object node that keeps insertion order. */
    public static ObjectNode object() {
        return JsonNodeFactory.instance.objectNode();
    }

    /**
     * Reads and parses a JSON file. Duplicate keys are allowed (the last wins, as in Python's
     * {@code json.load}); anything after the top-level value is an error.
     *
     * @throws IpgException if the file is missing, unreadable, empty or not JSON
     */
    public static JsonNode read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IpgException(file + " does not exist", e);
        } catch (IOException e) {
            throw new IpgException("cannot read " + file + ": " + oneLine(e), e);
        }
        return parse(bytes, file.toString(), false); // the path as given, as every message names a file
    }

    /** Like {@link #read(Path)}, and the top-level value must be an object. */
    public static ObjectNode readObject(Path file) {
        JsonNode node = read(file);
        if (!(node instanceof ObjectNode obj)) {
            throw new IpgException(file + " is not a JSON object (it is " + kind(node) + ")");
        }
        return obj;
    }

    /**
     * Parses UTF-8 JSON bytes; {@code what} names their source in error messages. With
     * {@code strictKeys}, a key repeated within one object is an error.
     */
    public static JsonNode parse(byte[] bytes, String what, boolean strictKeys) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IpgException(what + " is not valid UTF-8", e);
        }
        return parse(text, what, strictKeys);
    }

    /** Parses JSON text; {@code what} names its source in error messages. */
    public static JsonNode parse(String text, String what, boolean strictKeys) {
        JsonNode node;
        try {
            node = (strictKeys ? STRICT : LENIENT).readTree(text);
        } catch (JsonProcessingException e) {
            throw new IpgException(what + " is not valid JSON: " + describe(e), e);
        }
        if (node == null || node.isMissingNode()) {
            throw new IpgException(what + " is not valid JSON: it is empty");
        }
        return node;
    }

    /** Compact UTF-8 serialization, keys in the node's order. */
    public static byte[] toBytes(JsonNode node) {
        try {
            return COMPACT.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize a JSON tree", e);
        }
    }

    /** Writes {@code node} pretty-printed with a final newline, atomically (temp file, then rename). */
    public static void write(Path file, JsonNode node) {
        byte[] bytes;
        try {
            bytes = (PRETTY.writeValueAsString(node) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize a JSON tree", e);
        }
        AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    /** A JSON value's kind for messages: "an array", "a string", "null", ... */
    public static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }

    /** Jackson's message without its multi-line source excerpt, plus line and column. */
    static String describe(JsonProcessingException e) {
        String msg = clean(e.getOriginalMessage());
        JsonLocation loc = e.getLocation();
        if (loc != null && loc.getLineNr() > 0) {
            msg += " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
        }
        return msg;
    }

    /**
     * A Jackson message in the words of a JSON file's reader, on one line: without the source
     * excerpt ({@code [Source: ...; line: 1, column: 2]}) and without the names of Jackson's
     * settings ({@code StreamReadConstraints.getMaxNumberLength()}, {@code
     * JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS}), which mean nothing to the person who wrote the
     * file.
     */
    public static String clean(String jacksonMessage) {
        if (jacksonMessage == null) {
            return "";
        }
        String s = jacksonMessage.replaceAll("\\s*\\R\\s*", " ");
        s = s.replaceAll("\\s*(at )?\\[Source: [^\\]]*\\]", "");
        // "... (1000, from `StreamReadConstraints.getMaxNumberLength()`)" -> "... (1000)"
        s = s.replaceAll(",? from `[A-Za-z]*Constraints\\.[A-Za-z]+\\(\\)`", "");
        // "Non-standard token 'NaN': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"
        s = s.replaceAll(":? ?enable `[A-Za-z.]*Feature\\.[A-Z_]+` to allow", ": not allowed in JSON");
        s = s.replaceAll("\\s*\\(?(to allow, )?(enable|disable) `[A-Za-z.]*Feature\\.[A-Z_]+`[^)]*\\)?", "");
        s = s.replaceAll("`[A-Za-z.]*(Feature|Constraints)[A-Za-z._()]*`", "a JSON limit");
        s = s.replace("REDACTED", "").strip();
        return oneLine(s);
    }

    static String oneLine(Throwable e) {
        return oneLine(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }

    static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        String t = s.replaceAll("\\s*\\R\\s*", " ").strip();
        return t.length() > 300 ? t.substring(0, 300) + "..." : t;
    }

    /** How files are named in messages: the file name alone, as the user sees it in the directory. */
    static String label(Path file) {
        Path name = file.getFileName();
        return name == null ? file.toString() : name.toString();
    }
}
