package dev.ipg.api;

import dev.ipg.core.model.Site;
import java.util.Arrays;

/**
 * Values recorded at a hook site over a sequence, row-major with their shape: {@code [T, d]},
 * or {@code [T, heads, head_dim]} for {@code blocks.L.attn.hook_z} (as TransformerLens has it).
 *
 * @param site   where they were recorded
 * @param shape  the dimensions, positions first
 * @param values the numbers, row-major ({@code product(shape)} of them)
 */
public record Activations(Site site, int[] shape, float[] values) {

    /** Copies the arrays: an {@code Activations} never changes. */
    public Activations {
        shape = shape.clone();
        values = values.clone();
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " values, got " + values.length);
        }
    }

    /** @return a copy of the shape */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** @return a copy of the values, row-major */
    @Override
    public float[] values() {
        return values.clone();
    }

    /** @return the number of positions T (the first dimension) */
    public int positions() {
        return shape[0];
    }

    /** @return the number of components per position (the site's width) */
    public int width() {
        return values.length / shape[0];
    }

    /**
     * The value at an index of the shape, e.g. {@code get(t, i)} or, for hook_z, {@code get(t, head, j)}.
     *
     * @param index one coordinate per dimension
     * @return the value
     */
    public float get(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("expected " + shape.length + " indices for shape " + Arrays.toString(shape));
        }
        int flat = 0;
        for (int k = 0; k < shape.length; k++) {
            if (index[k] < 0 || index[k] >= shape[k]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " outside " + Arrays.toString(shape));
            }
            flat = flat * shape[k] + index[k];
        }
        return values[flat];
    }

    /**
     * The components at one position.
     *
     * @param t the position
     * @return a copy of the row, {@link #width()} values
     */
    public float[] row(int t) {
        return Arrays.copyOfRange(values, t * width(), (t + 1) * width());
    }
}
