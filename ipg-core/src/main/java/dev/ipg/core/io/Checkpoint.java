package dev.ipg.core.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.tensor.Matrix;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The weights of a model directory in Hugging Face layout, each shard memory-mapped once.
 *
 * <p>Which files: {@code model.safetensors.index.json} if present (its {@code weight_map} sends
 * each tensor to a shard file); otherwise {@code model.safetensors}; otherwise the directory's only
 * {@code *.safetensors} file. Everything listed in an index is checked at open: each shard exists
 * and holds the tensors the index assigns to it (tensors a shard holds but the index does not list
 * are not part of the checkpoint, as in transformers).
 */
public final class Checkpoint implements AutoCloseable, TensorSource {

    /** The index of a sharded checkpoint. */
    public static final String INDEX_FILE = "model.safetensors.index.json";
    /** The single file of an unsharded checkpoint. */
    public static final String SINGLE_FILE = "model.safetensors";

    private static final List<String> WEIGHT_SUFFIXES =
            List.of(".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".h5", ".msgpack", ".npz", ".onnx");

    private final Path dir;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> owner; // tensor name -> the file that holds it, in checkpoint order

    private Checkpoint(Path dir, List<SafetensorsFile> files, Map<String, SafetensorsFile> owner) {
        this.dir = dir;
        this.files = List.copyOf(files);
        this.owner = Collections.unmodifiableMap(owner);
    }

    /**
     * Opens the checkpoint in {@code dir}.
     *
     * @throws IpgException if the directory has no safetensors weights, the index is malformed or
     *     disagrees with its shards, or any file is not valid safetensors
     */
    public static Checkpoint open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IpgException(Files.exists(dir) ? dir + " is not a directory" : dir + " does not exist");
        }
        Path index = dir.resolve(INDEX_FILE);
        RegularFiles.require(index);
        if (Files.isRegularFile(index)) {
            return openSharded(dir, index);
        }
        Path single = dir.resolve(SINGLE_FILE);
        RegularFiles.require(single);
        if (!Files.isRegularFile(single)) {
            List<String> found = relevantFiles(dir);
            List<String> safetensors = found.stream().filter(f -> f.endsWith(".safetensors")).toList();
            if (safetensors.size() != 1) {
                throw new IpgException(dir + " has no " + SINGLE_FILE + " or " + INDEX_FILE + "; "
                        + describeContents(found, safetensors.size()));
            }
            single = dir.resolve(safetensors.getFirst());
        }
        SafetensorsFile f = SafetensorsFile.open(single);
        var owner = new LinkedHashMap<String, SafetensorsFile>();
        for (String name : f.names()) {
            owner.put(name, f);
        }
        return new Checkpoint(dir, List.of(f), owner);
    }

    private static Checkpoint openSharded(Path dir, Path index) {
        ObjectNode root = Json.readObject(index);
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new IpgException(INDEX_FILE + " in " + dir + " has "
                    + (map == null ? "no weight_map" : "a weight_map that is " + Json.kind(map) + ", not an object"));
        }
        if (map.isEmpty()) {
            throw new IpgException(INDEX_FILE + " in " + dir + " has an empty weight_map");
        }
        // tensor -> shard file name, and each shard's path
        var shardOf = new LinkedHashMap<String, String>();
        var shardPaths = new LinkedHashMap<String, Path>();
        Path base = dir.toAbsolutePath().normalize();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            JsonNode v = e.getValue();
            if (!v.isTextual()) {
                throw new IpgException(INDEX_FILE + " in " + dir + " maps tensor " + e.getKey() + " to "
                        + Json.kind(v) + ", not a file name");
            }
            String shard = v.textValue();
            if (!shardPaths.containsKey(shard)) {
                Path p = base.resolve(shard).normalize();
                if (shard.isEmpty() || !p.startsWith(base) || p.equals(base)) {
                    throw new IpgException(INDEX_FILE + " in " + dir + " lists shard \"" + shard
                            + "\", which is not a file inside the directory");
                }
                RegularFiles.require(dir.resolve(shard));
                if (!Files.isRegularFile(p)) {
                    throw new IpgException(INDEX_FILE + " in " + dir + " lists shard " + shard
                            + " (for tensor " + e.getKey() + "), which does not exist");
                }
                shardPaths.put(shard, dir.resolve(shard));
            }
            shardOf.put(e.getKey(), shard);
        }

        var opened = new LinkedHashMap<String, SafetensorsFile>();
        try {
            for (Map.Entry<String, Path> s : new TreeMap<>(shardPaths).entrySet()) { // by name: shard 1 first
                opened.put(s.getKey(), SafetensorsFile.open(s.getValue()));
            }
            var owner = new LinkedHashMap<String, SafetensorsFile>();
            for (Map.Entry<String, String> e : shardOf.entrySet()) {
                SafetensorsFile f = opened.get(e.getValue());
                if (!f.has(e.getKey())) {
                    throw new IpgException(INDEX_FILE + " in " + dir + " maps tensor " + e.getKey() + " to "
                            + e.getValue() + ", which does not contain it");
                }
                owner.put(e.getKey(), f);
            }
            return new Checkpoint(dir, new ArrayList<>(opened.values()), owner);
        } catch (RuntimeException e) {
            opened.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** Names in the directory that look like weights or weight indexes, sorted. */
    private static List<String> relevantFiles(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> {
                        String lower = n.toLowerCase(Locale.ROOT);
                        return lower.endsWith(".index.json") || WEIGHT_SUFFIXES.stream().anyMatch(lower::endsWith);
                    })
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new IpgException("cannot list " + dir + ": " + Json.oneLine(e), e);
        }
    }

    private static String describeContents(List<String> found, int safetensorsCount) {
        if (found.isEmpty()) {
            return "it contains no weight files";
        }
        String listed = found.size() <= 12
                ? String.join(", ", found)
                : String.join(", ", found.subList(0, 12)) + ", ... (" + found.size() + " in all)";
        if (safetensorsCount > 1) {
            return "it contains several .safetensors files without an index: " + listed;
        }
        return "it contains " + listed + " (ipg reads safetensors only; convert the weights to safetensors)";
    }

    /** The model directory. */
    @Override
    public String describe() {
        return dir.toString();
    }

    public Path dir() {
        return dir;
    }

    /** The safetensors files opened (one unless sharded; shards sorted by file name). */
    public List<Path> files() {
        return files.stream().map(SafetensorsFile::path).toList();
    }

    /** Whether the checkpoint has a tensor of that name. */
    @Override
    public boolean has(String name) {
        return owner.containsKey(name);
    }

    /** All tensor names: the index's order when sharded, otherwise the file's header order. */
    public Set<String> names() {
        return owner.keySet();
    }

    /** The header entry of a tensor. */
    public TensorInfo info(String name) {
        return file(name).info(name);
    }

    /** The raw bytes of a tensor, a view valid until {@link #close()}. */
    public MemorySegment segment(String name) {
        return file(name).segment(name);
    }

    /** A tensor as a zero-copy matrix (see {@link SafetensorsFile#matrix(String)} for the shape rule). */
    public Matrix matrix(String name) {
        return file(name).matrix(name);
    }

    /**
     * A tensor that must have shape {@code [rows, cols]} as implied by the model's config.json;
     * a 1-D tensor {@code [cols]} matches {@code rows == 1}.
     *
     * @throws IpgException naming the tensor, its file, its shape and the expected one otherwise
     */
    @Override
    public Matrix matrix(String name, int rows, int cols) {
        SafetensorsFile f = file(name);
        TensorInfo t = f.info(name);
        long[] s = t.shape();
        boolean ok = (s.length == 2 && s[0] == rows && s[1] == cols) || (s.length == 1 && rows == 1 && s[0] == cols);
        if (!ok) {
            String expected = s.length == 1 && rows == 1 ? "[" + cols + "]" : "[" + rows + ", " + cols + "]";
            throw new IpgException("tensor " + name + " in " + Json.label(f.path()) + " has shape " + t.shapeString()
                    + ", config.json implies " + expected);
        }
        return f.matrix(name);
    }

    private SafetensorsFile file(String name) {
        SafetensorsFile f = owner.get(name);
        if (f == null) {
            throw new IpgException("no tensor " + Text.printable(name) + " in checkpoint " + dir);
        }
        return f;
    }

    /** Unmaps every file. Idempotent. */
    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }

    @Override
    public String toString() {
        return "Checkpoint[" + dir + ", " + files.size() + " files, " + owner.size() + " tensors]";
    }
}
