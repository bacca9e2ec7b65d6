package dev.ipg.core.io;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Builds safetensors files from float arrays, stored as F32, BF16 (rounded to nearest, ties to
 * even) or F16 ({@link Float#floatToFloat16}). Tensors are laid out in insertion order, back to
 * back from offset 0; the JSON header is padded with spaces to a multiple of 8 bytes, so the
 * data buffer starts 8-byte aligned, as the reference implementation writes it. Metadata starts
 * as {@code {"format": "pt"}}, which Hugging Face transformers expects of the files it loads.
 *
 * <p>Every file is written atomically (see {@link AtomicFiles}): on failure nothing is left behind.
 *
 * <pre>{@code
 * new SafetensorsWriter()
 *         .add("model.norm.weight", gamma, new long[] {d}, DType.F32)
 *         .add("lm_head.weight", w, new long[] {vocab, d}, DType.BF16)
 *         .write(dir.resolve("model.safetensors"));
 * }</pre>
 */
public final class SafetensorsWriter {

    /**
     * A tensor to write: row-major {@code values} of the given {@code shape}, stored as {@code dtype}.
     * The values array is not copied; do not change it before the write.
     */
    public record Tensor(String name, float[] values, long[] shape, DType dtype) {

        public Tensor {
            if (name == null || name.isEmpty() || name.equals("__metadata__")) {
                throw new IllegalArgumentException("invalid tensor name \"" + name + "\"");
            }
            shape = shape.clone();
            long n = 1;
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape) + " of " + name);
                }
                n = Math.multiplyExact(n, d);
            }
            if (n != values.length) {
                throw new IllegalArgumentException("tensor " + name + " has shape " + Arrays.toString(shape) + " ("
                        + n + " elements) but " + values.length + " values");
            }
            if (dtype == null) {
                throw new IllegalArgumentException("no dtype for tensor " + name);
            }
        }

        /** A copy of the shape. */
        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** Bytes this tensor occupies in the file. */
        public long byteSize() {
            return (long) values.length * dtype.bytes();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tensor t && name.equals(t.name) && dtype == t.dtype
                    && Arrays.equals(shape, t.shape) && Arrays.equals(values, t.values);
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return "Tensor[" + name + " " + dtype + " " + Arrays.toString(shape) + "]";
        }
    }

    private static final Pattern SHARD_NAME = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");
    private static final int BUFFER_BYTES = 1 << 20;

    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>(Map.of("format", "pt"));

    /** Adds a tensor; names must be unique. */
    public SafetensorsWriter add(String name, float[] values, long[] shape, DType dtype) {
        return add(new Tensor(name, values, shape, dtype));
    }

    /** Adds a tensor; names must be unique. */
    public SafetensorsWriter add(Tensor t) {
        if (tensors.putIfAbsent(t.name(), t) != null) {
            throw new IllegalArgumentException("duplicate tensor name " + t.name());
        }
        return this;
    }

    /** Sets a {@code __metadata__} entry (replacing the default {@code format} if the key is "format"). */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /**
     * Writes everything added so far to one file, atomically.
     *
     * @throws IpgException if the file cannot be written
     */
    public void write(Path file) {
        writeFile(file, List.copyOf(tensors.values()), metadata);
    }

    /**
     * Writes a sharded checkpoint into {@code dir} as Hugging Face does: tensors go, in order, into
     * shards of at most {@code maxShardBytes} of tensor data (a larger tensor gets a shard of its
     * own), named {@code model-00001-of-0000N.safetensors}, plus {@code model.safetensors.index.json}
     * with {@code metadata.total_size} and a sorted {@code weight_map}; every shard carries this
     * writer's metadata. If everything fits in one shard, writes {@code model.safetensors} alone.
     * Files of an earlier save into {@code dir} that the new checkpoint does not use
     * ({@code model.safetensors}, {@code model-*-of-*.safetensors}, the index) are deleted
     * afterwards, so the directory holds exactly one checkpoint and loaders that prefer
     * {@code model.safetensors} over an index (transformers does) cannot pick up a stale file.
     *
     * @return the files written, shards first and the index (if any) last
     * @throws IpgException if a file cannot be written; files this call already wrote are removed
     */
    public List<Path> writeSharded(Path dir, long maxShardBytes) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive: " + maxShardBytes);
        }
        List<List<Tensor>> shards = new ArrayList<>();
        List<Tensor> current = new ArrayList<>();
        long currentBytes = 0;
        for (Tensor t : tensors.values()) {
            if (!current.isEmpty() && currentBytes + t.byteSize() > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(t);
            currentBytes += t.byteSize();
        }
        shards.add(current);

        List<Path> written = new ArrayList<>();
        try {
            if (shards.size() == 1) {
                Path file = dir.resolve(Checkpoint.SINGLE_FILE);
                writeFile(file, shards.getFirst(), metadata);
                written.add(file);
            } else {
                var weightMap = new TreeMap<String, String>(); // HF writes the index with sorted keys
                long total = 0;
                for (int i = 0; i < shards.size(); i++) {
                    String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
                    Path file = dir.resolve(name);
                    writeFile(file, shards.get(i), metadata);
                    written.add(file);
                    for (Tensor t : shards.get(i)) {
                        weightMap.put(t.name(), name);
                        total += t.byteSize();
                    }
                }
                ObjectNode index = Json.object();
                index.putObject("metadata").put("total_size", total);
                ObjectNode wm = index.putObject("weight_map");
                weightMap.forEach(wm::put);
                Path file = dir.resolve(Checkpoint.INDEX_FILE);
                Json.write(file, index);
                written.add(file);
            }
        } catch (RuntimeException e) {
            for (Path p : written) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        removeStale(dir, written);
        return List.copyOf(written);
    }

    /** Writes {@code tensors} as a sharded checkpoint with default metadata; see {@link #writeSharded(Path, long)}. */
    public static List<Path> writeSharded(Path dir, List<Tensor> tensors, long maxShardBytes) {
        var w = new SafetensorsWriter();
        tensors.forEach(w::add);
        return w.writeSharded(dir, maxShardBytes);
    }

    /** Deletes the shards, index or single file of an earlier checkpoint in {@code dir} that were not just written. */
    private static void removeStale(Path dir, List<Path> written) {
        List<Path> keep = written.stream().map(p -> p.toAbsolutePath().normalize()).toList();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                boolean ours = SHARD_NAME.matcher(n).matches() || n.equals(Checkpoint.INDEX_FILE)
                        || n.equals(Checkpoint.SINGLE_FILE);
                if (ours && !keep.contains(p.toAbsolutePath().normalize())) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new IpgException("wrote the checkpoint in " + dir + " but cannot remove the files of an earlier one: "
                    + Json.oneLine(e), e);
        }
    }

    private static void writeFile(Path file, List<Tensor> tensors, Map<String, String> metadata) {
        byte[] header = header(tensors, metadata);
        AtomicFiles.write(file, ch -> {
            ByteBuffer buf = ByteBuffer.allocate(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(header.length); // u64 header length
            flush(ch, buf);
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            for (Tensor t : tensors) {
                writeData(ch, t, buf);
            }
            flush(ch, buf);
        });
    }

    /** The JSON header, space-padded to a multiple of 8 bytes. */
    static byte[] header(List<Tensor> tensors, Map<String, String> metadata) {
        ObjectNode root = Json.object();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Tensor t : tensors) {
            ObjectNode e = root.putObject(t.name());
            e.put("dtype", t.dtype().name()); // DType names are the safetensors names
            ArrayNode shape = e.putArray("shape");
            for (long d : t.shape) {
                shape.add(d);
            }
            ArrayNode offsets = e.putArray("data_offsets");
            offsets.add(offset);
            offset += t.byteSize();
            offsets.add(offset);
        }
        byte[] json = Json.toBytes(root);
        int padded = (json.length + 7) & ~7;
        if (padded > SafetensorsFile.MAX_HEADER_BYTES) {
            throw new IllegalStateException("safetensors header of " + padded + " bytes exceeds the 100 MiB limit");
        }
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeData(FileChannel ch, Tensor t, ByteBuffer buf) throws IOException {
        float[] v = t.values();
        switch (t.dtype()) {
            case F32 -> {
                for (float x : v) {
                    if (buf.remaining() < 4) {
                        flush(ch, buf);
                    }
                    buf.putFloat(x);
                }
            }
            case BF16 -> {
                for (float x : v) {
                    if (buf.remaining() < 2) {
                        flush(ch, buf);
                    }
                    buf.putShort(bf16(x));
                }
            }
            case F16 -> {
                for (float x : v) {
                    if (buf.remaining() < 2) {
                        flush(ch, buf);
                    }
                    buf.putShort(Float.floatToFloat16(x));
                }
            }
        }
    }

    private static void flush(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        AtomicFiles.writeFully(ch, buf);
        buf.clear();
    }

    /**
     * float32 to bfloat16 bits, rounding to nearest with ties to even (overflow goes to infinity).
     * A NaN stays a NaN of the same sign, made quiet so that truncation cannot turn it into infinity.
     */
    static short bf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        if (Float.isNaN(x)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        // Add just under half an ulp of bf16, plus one if the kept part is odd: ties round to even.
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7fff + lsb) >>> 16);
    }
}
