package dev.ipg.core.io;

import dev.ipg.core.IpgException;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Matrix;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Tensors held in heap float arrays (training). A model bound to them sees every in-place update
 * of the arrays.
 */
public final class HeapTensors implements TensorSource {

    /** One tensor. */
    public record Tensor(float[] values, long[] shape) {
    }

    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    /** Adds (or replaces) a tensor. */
    public HeapTensors put(String name, float[] values, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        if (n != values.length) {
            throw new IllegalArgumentException(name + ": " + values.length + " values for shape " + Arrays.toString(shape));
        }
        tensors.put(name, new Tensor(values, shape.clone()));
        return this;
    }

    public Map<String, Tensor> tensors() {
        return java.util.Collections.unmodifiableMap(tensors);
    }

    public float[] values(String name) {
        return tensors.get(name).values();
    }

    @Override
    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public Matrix matrix(String name, int rows, int cols) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IpgException("tensor " + name + " is missing from " + describe());
        }
        if ((long) rows * cols != t.values().length) {
            throw new IpgException("tensor " + name + " in " + describe() + " has shape " + Arrays.toString(t.shape())
                    + ", config.json implies [" + rows + ", " + cols + "]");
        }
        return Matrix.of(t.values(), rows, cols);
    }

    @Override
    public String describe() {
        return "heap tensors";
    }

    /** Writes every tensor to one safetensors file in {@code dtype}. */
    public void write(java.nio.file.Path file, DType dtype, Map<String, String> metadata) {
        SafetensorsWriter w = new SafetensorsWriter();
        tensors.forEach((n, t) -> w.add(n, t.values(), t.shape(), dtype));
        metadata.forEach(w::metadata);
        w.write(file);
    }
}
