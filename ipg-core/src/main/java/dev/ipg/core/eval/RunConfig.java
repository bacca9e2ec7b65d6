package dev.ipg.core.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.Json;
import java.io.IOException;
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

    /** {@code {"architecture", "fingerprint"}} of a model ("in-memory" when it was not loaded from a directory). */
    public static ObjectNode model(dev.ipg.core.model.Transformer model) {
        ObjectNode m = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        m.put("architecture", model.config().family().architecture());
        m.put("fingerprint", model.dir() == null ? "in-memory"
                : dev.ipg.core.io.ModelFingerprint.of(model.dir(), model.checkpoint().files()));
        return m;
    }

    /** {@code {"file", "sha256", "problems"}} of a problem set. */
    public static ObjectNode dataset(Dataset data) {
        ObjectNode d = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        d.put("file", data.name());
        d.put("sha256", dev.ipg.core.io.ModelFingerprint.sha256(data.source()));
        d.put("problems", data.size());
        return d;
    }

    /**
     * Creates {@code dir} if needed and writes {@code config} to {@code dir/fileName}; if that file
     * exists with a different configuration (ignoring paths for which {@code ignore} is true),
     * throws an {@link IpgException} naming the differences.
     */
    public static void prepare(Path dir, String fileName, ObjectNode config, Predicate<String> ignore) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IpgException("cannot create run directory " + dir + ": " + e.getMessage());
        }
        Path cfg = dir.resolve(fileName);
        if (Files.exists(cfg)) {
            List<String> diff = differences(Json.read(cfg), config);
            diff.removeIf(ignore);
            if (!diff.isEmpty()) {
                throw new IpgException(dir + " holds results of a different configuration (" + String.join("; ", diff)
                        + "); use another output directory or delete it");
            }
        }
        Json.write(cfg, config);
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
