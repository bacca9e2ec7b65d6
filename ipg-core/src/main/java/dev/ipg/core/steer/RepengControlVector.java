package dev.ipg.core.steer;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.model.Site;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A control vector in the layout of repeng ({@code repeng.ControlVector.export_gguf} /
 * {@code import_gguf}) and llama.cpp's {@code --control-vector}: one direction per decoder
 * layer, a GGUF file with architecture {@code controlvector}, the keys
 * {@code controlvector.model_hint} (the checkpoint's {@code config.json} {@code model_type}) and
 * {@code controlvector.layer_count}, and one F32 tensor {@code direction.L} [hidden] per layer.
 *
 * <p>repeng adds {@code coeff * direction.L} to the output of decoder layer L (its
 * {@code ControlModule} wraps {@code model.layers[L]}), which is ipg's
 * {@code blocks.L.hook_resid_post}; so only residual-stream-after-block directions can be
 * exported, and a direction read back is a {@link SteeringVector} at that site.
 *
 * <p>The GGUF v3 layout written (little-endian):
 * <pre>
 *   uint32 magic 'GGUF'; uint32 version = 3; uint64 tensor_count; uint64 kv_count
 *   kv:      string key; uint32 value_type; value          (string = uint64 length + UTF-8 bytes)
 *            general.architecture (STRING = 8) "controlvector"
 *            controlvector.model_hint (STRING = 8)
 *            controlvector.layer_count (UINT32 = 4)
 *   tensor:  string name; uint32 n_dims = 1; uint64 ne[0] = hidden; uint32 type = 0 (F32);
 *            uint64 offset (from the start of the data section, a multiple of 32)
 *   padding with zeros to a multiple of 32 (general.alignment's default), then the data
 * </pre>
 *
 * @param modelHint  the model family as Hugging Face names it ({@code llama}, {@code qwen2}, ...)
 * @param directions layer -> direction, all of one width
 */
public record RepengControlVector(String modelHint, SortedMap<Integer, float[]> directions) {

    /** GGUF's default alignment of tensor data. */
    static final int ALIGNMENT = 32;
    private static final int GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
    private static final int TYPE_UINT32 = 4;
    private static final int TYPE_STRING = 8;
    private static final int GGML_F32 = 0;

    public RepengControlVector {
        if (modelHint == null || modelHint.isBlank()) {
            throw new IpgException("a control vector needs a model hint (the model_type of config.json, e.g. llama)");
        }
        if (directions.isEmpty()) {
            throw new IpgException("a control vector needs at least one layer");
        }
        TreeMap<Integer, float[]> copy = new TreeMap<>();
        int width = -1;
        for (Map.Entry<Integer, float[]> e : directions.entrySet()) {
            if (e.getKey() < 0) {
                throw new IpgException("negative layer " + e.getKey());
            }
            float[] v = e.getValue();
            if (width >= 0 && v.length != width) {
                throw new IpgException("directions of different widths (" + width + " and " + v.length + ")");
            }
            width = v.length;
            for (float x : v) {
                if (!Float.isFinite(x)) {
                    throw new IpgException("direction of layer " + e.getKey() + " has a non-finite entry");
                }
            }
            copy.put(e.getKey(), v.clone());
        }
        directions = Collections.unmodifiableSortedMap(copy);
    }

    /** One steering vector at {@code blocks.L.hook_resid_post}. */
    public static RepengControlVector of(String modelHint, SteeringVector vector) {
        if (vector.site().kind() != Site.Kind.RESID_POST) {
            throw new IpgException("a repeng control vector is added to a decoder layer's output, blocks.L.hook_resid_post; "
                    + vector.site() + " cannot be exported as one");
        }
        return new RepengControlVector(modelHint, new TreeMap<>(Map.of(vector.site().layer(), vector.values())));
    }

    /** The direction of layer {@code layer} as a steering vector at {@code blocks.L.hook_resid_post}. */
    public SteeringVector vector(int layer) {
        float[] v = directions.get(layer);
        if (v == null) {
            throw new IpgException("the control vector has no direction for layer " + layer + " (it has " + directions.keySet() + ")");
        }
        return new SteeringVector(new Site(layer, Site.Kind.RESID_POST), v);
    }

    /** Writes the GGUF file atomically. */
    public void writeGguf(Path file) {
        byte[] arch = "controlvector".getBytes(StandardCharsets.UTF_8);
        byte[] hint = modelHint.getBytes(StandardCharsets.UTF_8);
        int width = directions.firstEntry().getValue().length;
        long tensorBytes = 4L * width;
        long stride = (tensorBytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        ByteBuffer head = ByteBuffer.allocate(256 + hint.length + 64 * directions.size()).order(ByteOrder.LITTLE_ENDIAN);
        head.putInt(GGUF_MAGIC).putInt(3).putLong(directions.size()).putLong(3);
        string(head, "general.architecture").putInt(TYPE_STRING);
        string(head, arch);
        string(head, "controlvector.model_hint").putInt(TYPE_STRING);
        string(head, hint);
        string(head, "controlvector.layer_count").putInt(TYPE_UINT32).putInt(directions.size());
        long offset = 0;
        for (int layer : directions.keySet()) {
            string(head, "direction." + layer).putInt(1).putLong(width).putInt(GGML_F32).putLong(offset);
            offset += stride;
        }
        while (head.position() % ALIGNMENT != 0) {
            head.put((byte) 0);
        }
        head.flip();
        ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(offset)).order(ByteOrder.LITTLE_ENDIAN);
        long at = 0;
        for (float[] v : directions.values()) {
            data.position((int) at);
            for (float x : v) {
                data.putFloat(x);
            }
            at += stride;
        }
        data.position(0);
        AtomicFiles.write(file, ch -> {
            AtomicFiles.writeFully(ch, head);
            AtomicFiles.writeFully(ch, data);
        });
    }

    /**
     * Reads a GGUF control vector: {@code controlvector.model_hint} and every F32 tensor
     * {@code direction.L} [hidden], as repeng's {@code import_gguf} does.
     */
    public static RepengControlVector readGguf(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IpgException("cannot read " + file + ": " + e.getMessage(), e);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        try {
            if (b.getInt() != GGUF_MAGIC) {
                throw new IpgException(file + " is not a GGUF file");
            }
            int version = b.getInt();
            if (version != 2 && version != 3) {
                throw new IpgException(file + " is GGUF version " + version + "; ipg reads 2 and 3");
            }
            long tensors = b.getLong();
            long kvs = b.getLong();
            String archName = null;
            String hint = null;
            long alignment = ALIGNMENT;
            for (long i = 0; i < kvs; i++) {
                String key = string(b);
                int type = b.getInt();
                Object value = value(b, type, file);
                switch (key) {
                    case "general.architecture" -> archName = String.valueOf(value);
                    case "controlvector.model_hint" -> hint = String.valueOf(value);
                    case "general.alignment" -> alignment = ((Number) value).longValue();
                    default -> { }
                }
            }
            if (!"controlvector".equals(archName)) {
                throw new IpgException(file + " has architecture " + archName + ", not controlvector");
            }
            String[] names = new String[(int) tensors];
            long[] widths = new long[names.length];
            long[] offsets = new long[names.length];
            int[] types = new int[names.length];
            for (int i = 0; i < names.length; i++) {
                names[i] = string(b);
                int dims = b.getInt();
                long n = 1;
                for (int k = 0; k < dims; k++) {
                    n *= b.getLong();
                }
                widths[i] = n;
                types[i] = b.getInt();
                offsets[i] = b.getLong();
            }
            long dataStart = (b.position() + alignment - 1) / alignment * alignment;
            TreeMap<Integer, float[]> dirs = new TreeMap<>();
            for (int i = 0; i < names.length; i++) {
                if (!names[i].startsWith("direction.")) {
                    continue;
                }
                int layer;
                try {
                    layer = Integer.parseInt(names[i].substring("direction.".length()));
                } catch (NumberFormatException e) {
                    throw new IpgException(file + ": tensor " + names[i] + " is not direction.LAYER");
                }
                if (types[i] != GGML_F32) {
                    throw new IpgException(file + ": tensor " + names[i] + " has ggml type " + types[i] + "; ipg reads F32 (0)");
                }
                float[] v = new float[Math.toIntExact(widths[i])];
                ByteBuffer t = b.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(Math.toIntExact(dataStart + offsets[i]));
                for (int k = 0; k < v.length; k++) {
                    v[k] = t.getFloat();
                }
                dirs.put(layer, v);
            }
            if (hint == null) {
                throw new IpgException(file + " has no controlvector.model_hint");
            }
            return new RepengControlVector(hint, dirs);
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException | ArithmeticException e) {
            throw new IpgException(file + " is truncated or malformed GGUF", e);
        }
    }

    private static ByteBuffer string(ByteBuffer b, String s) {
        return string(b, s.getBytes(StandardCharsets.UTF_8));
    }

    private static ByteBuffer string(ByteBuffer b, byte[] s) {
        return b.putLong(s.length).put(s);
    }

    private static String string(ByteBuffer b) {
        byte[] s = new byte[Math.toIntExact(b.getLong())];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    /** One value of GGUF type {@code type}; arrays are skipped (returned as null). */
    private static Object value(ByteBuffer b, int type, Path file) {
        return switch (type) {
            case 0, 1, 7 -> (long) b.get();
            case 2, 3 -> (long) b.getShort();
            case 4 -> Integer.toUnsignedLong(b.getInt());
            case 5 -> (long) b.getInt();
            case 6 -> (double) b.getFloat();
            case 8 -> string(b);
            case 9 -> {
                int inner = b.getInt();
                long n = b.getLong();
                for (long i = 0; i < n; i++) {
                    value(b, inner, file);
                }
                yield null;
            }
            case 10, 11 -> b.getLong();
            case 12 -> b.getDouble();
            default -> throw new IpgException(file + ": unknown GGUF value type " + type);
        };
    }
}
