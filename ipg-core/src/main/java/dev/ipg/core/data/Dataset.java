package dev.ipg.core.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.io.Json;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A problem set read from a JSONL file, one JSON object per line (blank lines are skipped).
 *
 * <p>Shapes recognized from the fields of the first line, in this order:
 * <ul>
 *   <li>{@link Shape#MATH500}: {@code problem, answer, unique_id} (also {@code solution,
 *       subject, level}); id = {@code unique_id};
 *   <li>{@link Shape#AIME}: {@code id, problem, answer} (also {@code solution}); id = {@code id};
 *   <li>{@link Shape#GSM8K}: {@code question, answer}, where the answer is a worked solution
 *       whose last line is {@code #### 42}; gold = the text after the last {@code "#### "}
 *       with commas removed; id = {@code <file-stem>-<index>} (index from 0 over the
 *       non-blank lines).
 * </ul>
 * An explicit {@link FieldMapping} ({@link Shape#CUSTOM}) names the fields instead; its answer
 * value is the gold as written, or read the GSM8K way when it contains {@code "#### "}. Field
 * values may be JSON strings or numbers. Ids must be unique within the file.
 *
 * <p>Every problem with the file (missing file, invalid UTF-8, line that is not a JSON object,
 * missing, null or empty field, duplicate id, no problems) is an {@link IpgException} naming the
 * file and line ({@code FILE: line N: ...}); the whole file is checked when it is loaded, and
 * {@link #prompts} checks every prompt against the model's context before any work starts.
 *
 * @param name     the file name, for messages and reports
 * @param source   the file read
 * @param shape    the recognized shape, or {@code CUSTOM}
 * @param mapping  the fields used
 * @param problems the problems in file order
 */
public record Dataset(String name, Path source, Shape shape, FieldMapping mapping, List<Problem> problems) implements java.io.Serializable {

    /** Serialized as its problems with the source's name (a path is not serializable). */
    @java.io.Serial
    private Object writeReplace() {
        return new Serialized(name, source == null ? null : source.toString(), shape, mapping, problems);
    }

    private record Serialized(String name, String source, Shape shape, FieldMapping mapping, List<Problem> problems)
            implements java.io.Serializable {
        @java.io.Serial
        private Object readResolve() {
            return new Dataset(name, source == null ? null : Path.of(source), shape, mapping, problems);
        }
    }

    /** The recognized dataset layouts. */
    public enum Shape {
        GSM8K(FieldMapping.GSM8K),
        MATH500(FieldMapping.MATH500),
        AIME(FieldMapping.AIME),
        /** Fields named by an explicit mapping. */
        CUSTOM(null);

        private final FieldMapping mapping;

        Shape(FieldMapping mapping) {
            this.mapping = mapping;
        }

        /** The fields this shape reads ({@code null} for {@code CUSTOM}). */
        public FieldMapping mapping() {
            return mapping;
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String GSM8K_MARK = "#### ";

    public Dataset {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(mapping, "mapping");
        problems = List.copyOf(problems);
    }

    /** Loads {@code file}, recognizing its shape from the first line. */
    public static Dataset load(Path file) {
        return load(file, null);
    }

    /** Loads {@code file} with the given fields; {@code null} recognizes the shape. */
    public static Dataset load(Path file, FieldMapping mapping) {
        if (!Files.exists(file)) {
            throw new IpgException("dataset " + file + " does not exist");
        }
        if (!Files.isRegularFile(file)) {
            throw new IpgException("dataset " + file + " is not a file");
        }
        byte[] bytes;
        try {
            if (Files.size(file) > Integer.MAX_VALUE - 16) {
                throw new IpgException(file + ": the dataset is larger than 2 GB; split it");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IpgException(file + ": cannot read the dataset: " + AtomicFiles.reason(e));
        }
        String stem = stem(file);
        Shape shape = mapping == null ? null : Shape.CUSTOM;
        var problems = new ArrayList<Problem>();
        var idLines = new HashMap<String, Integer>();
        int lineNumber = 0;
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        for (int pos = 0; pos < bytes.length; ) {
            int nl = pos;
            while (nl < bytes.length && bytes[nl] != '\n') {
                nl++;
            }
            int end = nl > pos && bytes[nl - 1] == '\r' ? nl - 1 : nl;
            lineNumber++;
            String line;
            try {
                line = utf8.decode(ByteBuffer.wrap(bytes, pos, end - pos)).toString();
            } catch (CharacterCodingException e) {
                throw new IpgException(file + ": line " + lineNumber + ": not valid UTF-8");
            }
            pos = nl + 1;
            if (lineNumber == 1 && line.startsWith("\uFEFF")) {
                line = line.substring(1); // byte order mark
            }
            if (line.isBlank()) {
                continue;
            }
            JsonNode node = parseLine(file, lineNumber, line);
            if (shape == null) {
                shape = detect(file, lineNumber, node);
                mapping = shape.mapping();
            }
            var problem = problem(file, lineNumber, node, line, shape, mapping, stem, problems.size());
            var previous = idLines.putIfAbsent(problem.id(), lineNumber);
            if (previous != null) {
                throw new IpgException(file + ": line " + lineNumber + ": id '" + problem.id()
                        + "' already used on line " + previous);
            }
            problems.add(problem);
        }
        if (problems.isEmpty()) {
            throw new IpgException("dataset " + file + " holds no problems");
        }
        return new Dataset(file.getFileName().toString(), file, shape, mapping, problems);
    }

    /**
     * The token ids of the first {@code m} prompts (0: all), every one rendered, encoded and
     * checked before any work starts: each must leave room for at least one more token in a
     * context of {@code context} positions.
     *
     * @throws IpgException naming the file, line and id of the first prompt that fails
     */
    public List<int[]> prompts(int m, PromptFormat format, Tokenizer tok, int context) {
        if (m < 0) {
            throw new IpgException("the number of problems to use must be >= 0, got " + m);
        }
        int n = m == 0 ? size() : Math.min(m, size());
        List<int[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Problem p = problems.get(i);
            int[] ids;
            try {
                ids = format.encode(p.question(), tok);
            } catch (IpgException e) {
                throw new IpgException(where(p, i) + ": " + e.getMessage(), e);
            }
            if (ids.length >= context) {
                throw new IpgException(where(p, i) + ": the prompt is " + ids.length + " tokens, which leaves no room in the model's "
                        + "context of " + context + " positions; shorten the question or leave the problem out");
            }
            out.add(ids);
        }
        return out;
    }

    /** How problem {@code p} (at {@code index}) is named in messages: "FILE: line 7 (id gsm8k-6)". */
    public String where(Problem p, int index) {
        String file = source == null ? name : source.toString();
        return file + ": " + (p.line() > 0 ? "line " + p.line() : "problem " + (index + 1)) + " (id " + p.id() + ")";
    }

    /** The number of problems. */
    /** The first {@code limit} problems (0: all) as a dataset of their own. */
    public Dataset first(int limit) {
        int n = limit > 0 ? Math.min(limit, size()) : size();
        return new Dataset(name(), source(), shape(), mapping(), problems().subList(0, n));
    }

    public int size() {
        return problems.size();
    }

    /** The problem at {@code index}. */
    public Problem get(int index) {
        return problems.get(index);
    }

    /**
     * What {@code a} and {@code b} share (ids, identical normalized questions); a support set
     * and an evaluation set must share nothing.
     */
    public static Overlap disjoint(Dataset a, Dataset b) {
        var idsB = new HashSet<String>();
        var questionsB = new LinkedHashMap<String, String>();
        for (var p : b.problems) {
            idsB.add(p.id());
            questionsB.putIfAbsent(normalizeQuestion(p.question()), p.id());
        }
        var shared = new ArrayList<String>();
        var same = new ArrayList<Overlap.SameQuestion>();
        for (var p : a.problems) {
            if (idsB.contains(p.id())) {
                shared.add(p.id());
            }
            var other = questionsB.get(normalizeQuestion(p.question()));
            if (other != null) {
                same.add(new Overlap.SameQuestion(p.id(), other));
            }
        }
        return new Overlap(a.name, b.name, shared, same);
    }

    /** Throws an {@link IpgException} describing the overlap unless {@code a} and {@code b} are disjoint. */
    public static void requireDisjoint(Dataset a, Dataset b) {
        var overlap = disjoint(a, b);
        if (!overlap.isDisjoint()) {
            throw new IpgException(overlap.describe());
        }
    }

    /** The form questions are compared in: NFKC, lower case, whitespace runs as one space. */
    public static String normalizeQuestion(String q) {
        return Normalizer.normalize(q, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT)
                .replaceAll("\\s+", " ").strip();
    }

    /** The GSM8K gold: the text after the last {@code "#### "}, stripped, commas removed; null without one. */
    public static String gsm8kGold(String answer) {
        int at = answer.lastIndexOf(GSM8K_MARK);
        if (at < 0) {
            return null;
        }
        return answer.substring(at + GSM8K_MARK.length()).strip().replace(",", "");
    }

    // ------------------------------------------------------------------ reading

    private static JsonNode parseLine(Path file, int lineNumber, String line) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            String why = Json.clean(e.getOriginalMessage());
            why = why.isEmpty() ? "" : ": " + why;
            throw new IpgException(file + ": line " + lineNumber + ": not valid JSON" + why);
        }
        if (node == null || !node.isObject()) {
            throw new IpgException(file + ": line " + lineNumber + ": expected a JSON object, found " + (node == null ? "nothing" : Json.kind(node)));
        }
        return node;
    }

    private static Shape detect(Path file, int lineNumber, JsonNode node) {
        if (node.has("problem") && node.has("answer") && node.has("unique_id")) {
            return Shape.MATH500;
        }
        if (node.has("id") && node.has("problem") && node.has("answer")) {
            return Shape.AIME;
        }
        if (node.has("question") && node.has("answer")) {
            return Shape.GSM8K;
        }
        throw new IpgException("cannot tell the shape of " + file + " from line " + lineNumber
                + " (fields: " + fieldNames(node) + "); expected GSM8K (question, answer), MATH-500 "
                + "(problem, answer, unique_id) or AIME (id, problem, answer), or give a field mapping "
                + "question=FIELD,answer=FIELD[,id=FIELD]");
    }

    private static Problem problem(Path file, int lineNumber, JsonNode node, String line, Shape shape,
            FieldMapping mapping, String stem, int index) {
        String question = text(file, lineNumber, node, mapping.question());
        String answer = text(file, lineNumber, node, mapping.answer());
        String gold = gsm8kGold(answer);
        if (gold == null) {
            if (shape == Shape.GSM8K) {
                throw new IpgException(file + ": line " + lineNumber + ": GSM8K answer has no '"
                        + GSM8K_MARK.strip() + " ' line with the final answer");
            }
            gold = answer.strip();
        }
        if (gold.isEmpty()) {
            throw new IpgException(file + ": line " + lineNumber + ": empty gold answer in field '"
                    + mapping.answer() + "'");
        }
        String id = mapping.id() == null ? stem + "-" + index : text(file, lineNumber, node, mapping.id()).strip();
        return new Problem(id, question, gold, line, lineNumber);
    }

    private static String text(Path file, int lineNumber, JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null) {
            throw new IpgException(file + ": line " + lineNumber + ": no field '" + field + "' (fields: "
                    + fieldNames(node) + ")");
        }
        if (value.isNull()) {
            throw new IpgException(file + ": line " + lineNumber + ": field '" + field + "' is null");
        }
        if (!value.isTextual() && !value.isNumber()) {
            throw new IpgException(file + ": line " + lineNumber + ": field '" + field
                    + "' is " + Json.kind(value) + ", not a string or number");
        }
        String s = value.asText();
        if (s.isBlank()) {
            throw new IpgException(file + ": line " + lineNumber + ": field '" + field + "' is empty");
        }
        return s;
    }

    private static String fieldNames(JsonNode node) {
        var names = new ArrayList<String>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return String.join(", ", names);
    }

    private static String stem(Path file) {
        String name = file.getFileName().toString();
        int dot = name.indexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}
