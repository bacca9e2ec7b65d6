package dev.ipg.core.run;

import dev.ipg.core.data.Dataset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.ModelFingerprint;
import dev.ipg.core.model.Transformer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The configuration file that identifies a resumable run directory: a run resumes only into a
 * directory whose recorded configuration equals its own (apart from paths the caller declares
 * harmless, such as the number of problems used).
 */
public final class RunConfig {

    private RunConfig() {
    }

    /**
     * {@code {"architecture", "fingerprint", "content"}} of a model: the layout fingerprint and the
     * content identity of its weights, tokenizer files and chat template (see {@link
     * ModelFingerprint}); "in-memory" for both when it was not loaded from a directory.
     */
    public static ObjectNode model(Transformer model) {
        ObjectNode m = JsonNodeFactory.instance.objectNode();
        m.put("architecture", model.config().family().architecture());
        if (model.dir() == null) {
            m.put("fingerprint", "in-memory");
            m.put("content", "in-memory");
        } else {
            m.put("fingerprint", ModelFingerprint.of(model.dir(), model.checkpoint().files()));
            m.set("content", ModelFingerprint.content(model.dir(), model.checkpoint().files()));
        }
        return m;
    }

    /**
     * What differs between the model recorded in a run ({@code recorded}, the {@code model} object
     * of its configuration) and {@code current}, in words: "the weights (model.safetensors)",
     * "tokenizer.json", "the chat template", ...; empty when they are the same model. A record
     * without {@code content} (written before ipg identified models by content) is reported as
     * {@link #OLD_RECORD}.
     */
    public static List<String> modelChanges(JsonNode recorded, JsonNode current) {
        List<String> out = new ArrayList<>();
        if (!recorded.path("architecture").equals(current.path("architecture"))) {
            out.add("the architecture (" + recorded.path("architecture").asText("?") + " vs "
                    + current.path("architecture").asText("?") + ")");
        }
        JsonNode a = recorded.path("content");
        JsonNode b = current.path("content");
        if (a.isMissingNode() && !b.isMissingNode()) {
            out.add(OLD_RECORD);
            return out;
        }
        if (!recorded.path("fingerprint").equals(current.path("fingerprint"))) {
            out.add("config.json or the tensor layout");
        }
        if (a.isObject() && b.isObject()) {
            JsonNode wa = a.path("weights");
            JsonNode wb = b.path("weights");
            if (!wa.equals(wb)) {
                Set<String> names = new TreeSet<>();
                wa.fieldNames().forEachRemaining(names::add);
                wb.fieldNames().forEachRemaining(names::add);
                List<String> changed = new ArrayList<>();
                for (String n : names) {
                    if (!wa.path(n).equals(wb.path(n))) {
                        changed.add(n + (wa.has(n) ? wb.has(n) ? "" : " gone" : " added"));
                    }
                }
                out.add("the weights (" + String.join(", ", changed) + ")");
            }
            for (String f : ModelFingerprint.TOKENIZER_FILES) {
                if (!a.path(f).equals(b.path(f))) {
                    out.add(f + (a.path(f).asText().equals("absent") ? " added" : b.path(f).asText().equals("absent") ? " gone" : ""));
                }
                if (f.equals("tokenizer_config.json") && !a.path("chat_template").equals(b.path("chat_template"))) {
                    out.add("the chat template of tokenizer_config.json");
                }
            }
        } else if (!a.equals(b)) {
            out.add("the model (" + a.asText(a.toString()) + " vs " + b.asText(b.toString()) + ")");
        }
        return out;
    }

    /** The change {@link #modelChanges} reports for a run recorded before models were identified by content. */
    public static final String OLD_RECORD = "the run was recorded by an older ipg that did not identify the model by the content "
            + "of its weights and tokenizer";

    /** {@code {"file", "sha256", "problems"}} of a problem set. */
    public static ObjectNode dataset(Dataset data) {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("file", data.name());
        d.put("sha256", ModelFingerprint.sha256(data.source()));
        d.put("problems", data.size());
        return d;
    }

    /**
     * Creates {@code dir} if needed and writes {@code config} to {@code dir/fileName}; if that file
     * exists with a different configuration (ignoring paths for which {@code ignore} is true),
     * throws an {@link IpgException} naming the differences.
     */
    public static void prepare(Path dir, String fileName, ObjectNode config, Predicate<String> ignore) {
        AtomicFiles.createDirectories(dir, "run directory");
        Path cfg = dir.resolve(fileName);
        if (Files.exists(cfg)) {
            requireSame(dir, Json.read(cfg), config, ignore);
        }
        Json.write(cfg, config);
    }

    /**
     * Throws an {@link IpgException} unless the configuration recorded in {@code dir} ({@code old})
     * equals {@code config} up to {@code ignore}: naming what changed in the model first (weights,
     * tokenizer files, chat template), then the other differing paths.
     */
    public static void requireSame(Path dir, JsonNode old, JsonNode config, Predicate<String> ignore) {
        List<String> modelChanges = old.has("model") || config.has("model")
                ? modelChanges(old.path("model"), config.path("model")) : List.of();
        if (modelChanges.contains(OLD_RECORD)) {
            throw new IpgException(dir + ": " + OLD_RECORD + ", so its results cannot be safely resumed or extended; "
                    + "use another output directory or delete this one to start over");
        }
        List<String> diff = differences(old, config);
        diff.removeIf(ignore);
        diff.removeIf(d -> d.startsWith("model."));
        if (!modelChanges.isEmpty()) {
            throw new IpgException(dir + ": holds results of a different model: changed since then: " + String.join("; ", modelChanges)
                    + (diff.isEmpty() ? "" : "; and " + String.join("; ", diff))
                    + "; use another output directory or delete it");
        }
        if (!diff.isEmpty()) {
            throw new IpgException(dir + ": holds results of a different configuration (" + String.join("; ", diff)
                    + "); use another output directory or delete it");
        }
    }

    /** Whether {@code dir/fileName} exists and records the same configuration (up to {@code ignore}). */
    public static boolean matches(Path dir, String fileName, JsonNode config, Predicate<String> ignore) {
        Path cfg = dir.resolve(fileName);
        if (!Files.exists(cfg)) {
            return false;
        }
        List<String> diff = differences(Json.read(cfg), config);
        diff.removeIf(ignore);
        return diff.isEmpty();
    }

    /** The paths where two JSON trees differ, as "a.b.c OLD vs NEW" (numbers compared by value). */
    public static List<String> differences(JsonNode a, JsonNode b) {
        List<String> out = new ArrayList<>();
        differences("", a, b, out);
        return out;
    }

    private static void differences(String path, JsonNode a, JsonNode b, List<String> out) {
        if (a.isObject() && b.isObject()) {
            Set<String> keys = new TreeSet<>();
            a.fieldNames().forEachRemaining(keys::add);
            b.fieldNames().forEachRemaining(keys::add);
            for (String k : keys) {
                JsonNode x = a.get(k);
                JsonNode y = b.get(k);
                String p = path.isEmpty() ? k : path + "." + k;
                if (x == null || y == null) {
                    out.add(p + " " + (x == null ? "absent" : abbreviate(x)) + " vs " + (y == null ? "absent" : abbreviate(y)));
                } else {
                    differences(p, x, y, out);
                }
            }
        } else if (a.isNumber() && b.isNumber()) {
            if (a.decimalValue().compareTo(b.decimalValue()) != 0) {
                out.add(path + " " + a + " vs " + b);
            }
        } else if (!a.equals(b)) {
            out.add(path + " " + abbreviate(a) + " vs " + abbreviate(b));
        }
    }

    private static String abbreviate(JsonNode n) {
        String s = n.toString();
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
