package dev.ipg.core.io;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Matrix;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One {@code .safetensors} file, memory-mapped read-only through FFM; tensors are zero-copy
 * views into the mapping, valid until {@link #close()}.
 *
 * <p>The format:
 * <pre>
 *   u64 little-endian  N                         // header length in bytes
 *   N bytes            UTF-8 JSON header         // {name: {dtype, shape, data_offsets: [begin, end]},
 *                                                //  "__metadata__": {string: string}}, maybe space-padded
 *   rest of file       data buffer               // tensor bytes; offsets are relative to its start
 * </pre>
 * The whole header is validated when the file is opened: every problem (truncation, bad JSON,
 * unknown dtype, a byte range that disagrees with dtype and shape, out-of-range or overlapping
 * tensors) is an {@link IpgException} whose one-line message names the file. Unused gaps in
 * the data buffer are allowed. Every offset and size is a {@code long}, so files over 2 GB work.
 *
 * <p>Thread-safe for reading; the mapping belongs to a shared arena that {@link #close()} frees.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** Headers longer than this are refused before any of them is read (as the reference reader does). */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    private static final String METADATA_KEY = "__metadata__";

    private final Path path;
    private final String label;
    private final Arena arena;
    private final MemorySegment data; // the data buffer: file bytes [8 + N, size)
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, Header header) {
        this.path = path;
        this.label = Json.label(path);
        this.arena = arena;
        this.data = data;
        this.tensors = header.tensors();
        this.metadata = header.metadata();
    }

    /**
     * Opens, validates and memory-maps a safetensors file.
     *
     * @throws IpgException if the file is missing, unreadable or not a valid safetensors file
     */
    public static SafetensorsFile open(Path path) {
        String label = Json.label(path);
        RegularFiles.require(path);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new IpgException(label + " is too short to be a safetensors file: " + size
                        + " bytes, less than the 8-byte header length");
            }
            ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, prefix, 0);
            long n = prefix.getLong(0); // u64 header length; negative here means >= 2^63
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw new IpgException(label + " has a header length of " + Long.toUnsignedString(n)
                        + " bytes, more than the 100 MiB limit (is it a safetensors file?)");
            }
            if (n > size - 8) {
                throw new IpgException(label + " is truncated: header length is " + n + " bytes, file has "
                        + (size - 8) + " bytes after the 8-byte length");
            }
            byte[] headerBytes = new byte[(int) n];
            readFully(ch, ByteBuffer.wrap(headerBytes), 8);
            long dataStart = 8 + n;
            Header header = Header.parse(headerBytes, label, size - dataStart);

            Arena arena = Arena.ofShared();
            try {
                MemorySegment whole = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                return new SafetensorsFile(path, arena, whole.asSlice(dataStart), header);
            } catch (Throwable t) {
                arena.close();
                throw t;
            }
        } catch (NoSuchFileException e) {
            throw new IpgException(path + " does not exist", e);
        } catch (IOException e) {
            throw new IpgException("cannot read " + path + ": " + Json.oneLine(e), e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, position);
            if (r < 0) {
                throw new EOFException("file shrank while being read");
            }
            position += r;
        }
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** Tensor names in header order. */
    public Set<String> names() {
        return tensors.keySet();
    }

    /** Whether the file holds a tensor of that name. */
    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** The header entry of a tensor; an unknown name is an {@link IpgException}. */
    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new IpgException("no tensor " + Text.printable(name) + " in " + label);
        }
        return t;
    }

    /** The {@code __metadata__} map of the header (empty if absent), in header order. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The raw bytes of a tensor: a read-only slice of the mapping, valid until {@link #close()}. */
    public MemorySegment segment(String name) {
        TensorInfo t = info(name);
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException(path + " is closed");
        }
        return data.asSlice(t.begin(), t.byteSize());
    }

    /**
     * A tensor as a zero-copy {@link Matrix}: shape {@code []} is {@code [1, 1]}, {@code [n]} is
     * {@code [1, n]}, {@code [r, c]} is itself, and {@code [d0, d1, ...]} is {@code [d0, d1 * ...]}.
     *
     * @throws IpgException if the dtype is not F32, F16 or BF16, or a dimension exceeds an int
     */
    public Matrix matrix(String name) {
        TensorInfo t = info(name);
        DType dtype = StorageType.parse(t.dtype()).engine();
        if (dtype == null) {
            throw new IpgException("tensor " + name + " in " + label + " has dtype " + t.dtype()
                    + "; ipg reads F32, F16 and BF16");
        }
        long[] s = t.shape();
        long rows;
        long cols;
        switch (s.length) {
            case 0 -> { rows = 1; cols = 1; }
            case 1 -> { rows = 1; cols = s[0]; }
            default -> {
                rows = s[0];
                cols = 1;
                for (int i = 1; i < s.length; i++) {
                    cols *= s[i]; // cannot overflow: the element count was checked at open
                }
            }
        }
        if (rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE) {
            throw new IpgException("tensor " + name + " in " + label + " has shape " + t.shapeString()
                    + ", too large for a matrix view [" + rows + ", " + cols + "] (each side must fit an int)");
        }
        return new Matrix(segment(name), dtype, (int) rows, (int) cols);
    }

    /** Unmaps the file; segments and matrices obtained from it become inaccessible. Idempotent. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }

    /** The parsed and validated header. */
    private record Header(Map<String, TensorInfo> tensors, Map<String, String> metadata) {

        /**
         * Parses {@code bytes} (the N header bytes) and checks every entry against the data buffer
         * length {@code dataLength}.
         */
        static Header parse(byte[] bytes, String label, long dataLength) {
            JsonNode root = Json.parse(bytes, "the header of " + label, true);
            if (!root.isObject()) {
                throw new IpgException("the header of " + label + " is not a JSON object (it is "
                        + Json.kind(root) + ")");
            }
            var tensors = new LinkedHashMap<String, TensorInfo>();
            var metadata = new LinkedHashMap<String, String>();
            for (Map.Entry<String, JsonNode> e : root.properties()) {
                if (e.getKey().equals(METADATA_KEY)) {
                    parseMetadata(e.getValue(), label, metadata);
                } else {
                    tensors.put(e.getKey(), parseEntry(e.getKey(), e.getValue(), label));
                }
            }
            checkLayout(tensors.values(), label, dataLength);
            return new Header(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
        }

        private static void parseMetadata(JsonNode node, String label, Map<String, String> out) {
            if (node.isNull()) {
                return;
            }
            if (!node.isObject()) {
                throw new IpgException("__metadata__ in " + label + " is " + Json.kind(node)
                        + ", not an object of strings");
            }
            for (Map.Entry<String, JsonNode> m : node.properties()) {
                if (!m.getValue().isTextual()) {
                    throw new IpgException("__metadata__ in " + label + " has a value for key \"" + m.getKey()
                            + "\" that is " + Json.kind(m.getValue()) + ", not a string");
                }
                out.put(m.getKey(), m.getValue().textValue());
            }
        }

        private static TensorInfo parseEntry(String name, JsonNode entry, String label) {
            String where = "tensor " + Text.printable(name) + " in " + label;
            if (!entry.isObject()) {
                throw new IpgException(where + " has a header entry that is " + Json.kind(entry) + ", not an object");
            }
            JsonNode dtypeNode = entry.get("dtype");
            if (dtypeNode == null || !dtypeNode.isTextual()) {
                throw new IpgException(where + " has " + (dtypeNode == null ? "no dtype" : "a dtype that is not a string"));
            }
            String dtype = dtypeNode.textValue();
            StorageType type = StorageType.parse(dtype);
            if (type == null) {
                throw new IpgException(where + " has unknown dtype \"" + Text.printable(dtype) + "\" (the format knows "
                        + StorageType.names() + ")");
            }

            JsonNode shapeNode = entry.get("shape");
            if (shapeNode == null || !shapeNode.isArray()) {
                throw new IpgException(where + " has " + (shapeNode == null ? "no shape" : "a shape that is not an array"));
            }
            long[] shape = new long[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = shapeNode.get(i);
                if (!isNonNegativeLong(d)) {
                    throw new IpgException(where + " has an invalid shape " + shapeNode
                            + ": dimensions must be non-negative integers");
                }
                shape[i] = d.longValue();
            }

            JsonNode off = entry.get("data_offsets");
            if (off == null || !off.isArray() || off.size() != 2
                    || !isNonNegativeLong(off.get(0)) || !isNonNegativeLong(off.get(1))) {
                throw new IpgException(where + " has invalid data_offsets " + (off == null ? "(missing)" : off)
                        + ": need two non-negative integers [begin, end]");
            }
            long begin = off.get(0).longValue();
            long end = off.get(1).longValue();
            if (begin > end) {
                throw new IpgException(where + " has data_offsets [" + begin + ", " + end + "] with begin after end");
            }

            long need;
            try {
                long count = 1;
                for (long d : shape) {
                    count = Math.multiplyExact(count, d);
                }
                need = Math.multiplyExact(count, type.bytes());
            } catch (ArithmeticException overflow) {
                throw new IpgException(where + " has shape " + Arrays.toString(shape) + ", too large to address");
            }
            if (end - begin != need) {
                throw new IpgException(where + " has dtype " + dtype + " and shape " + Arrays.toString(shape)
                        + ", which need " + need + " bytes, but data_offsets [" + begin + ", " + end + "] hold "
                        + (end - begin));
            }
            return new TensorInfo(name, dtype, shape, begin, end);
        }

        private static boolean isNonNegativeLong(JsonNode n) {
            return n != null && n.isIntegralNumber() && n.canConvertToLong() && n.longValue() >= 0;
        }

        /** Every tensor inside the data buffer, and no two sharing a byte. */
        private static void checkLayout(java.util.Collection<TensorInfo> all, String label, long dataLength) {
            TensorInfo last = null;
            for (TensorInfo t : all) {
                if (last == null || t.end() > last.end()) {
                    last = t;
                }
            }
            if (last != null && last.end() > dataLength) {
                throw new IpgException(label + " is truncated: header says " + last.end()
                        + " bytes of tensor data, file has " + dataLength + " (tensor " + last.name() + " ends at "
                        + last.end() + ")");
            }
            List<TensorInfo> sorted = new ArrayList<>();
            for (TensorInfo t : all) {
                if (t.byteSize() > 0) { // empty tensors occupy no bytes and overlap nothing
                    sorted.add(t);
                }
            }
            sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
            TensorInfo reach = null; // the tensor that ends furthest among those seen
            for (TensorInfo t : sorted) {
                if (reach != null && t.begin() < reach.end()) {
                    throw new IpgException("tensors " + reach.name() + " and " + t.name() + " in " + label
                            + " overlap: bytes [" + reach.begin() + ", " + reach.end() + ") and [" + t.begin()
                            + ", " + t.end() + ")");
                }
                if (reach == null || t.end() > reach.end()) {
                    reach = t;
                }
            }
        }
    }
}
