package dev.ipg.core.model;

import dev.ipg.core.IpgException;
import java.util.Arrays;

/**
 * Keys and values of every layer for a fixed number of sequence slots. Storage per (layer, slot)
 * grows by doubling up to the slot's capacity, so short sequences use little memory.
 * Layout per (layer, slot): {@code [pos][kvHead][headDim]}.
 */
public final class KVCache {

    /** The most elements a Java array is given here (a little below {@code Integer.MAX_VALUE}, as the JDK does). */
    public static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final int layers;
    private final int rowWidth;
    private final int capacity;
    private final float[][][] keys;   // [layer][slot] -> (len, kvHeads * headDim)
    private final float[][][] values;
    private final int[] length;

    /**
     * A cache for {@code slots} sequences of at most {@code capacity} positions each; a capacity
     * beyond what one array per (layer, slot) can hold is lowered to that (memory runs out long
     * before).
     */
    public KVCache(ModelConfig config, int slots, int capacity) {
        if (slots < 0 || capacity < 0) {
            throw new IllegalArgumentException("a cache needs slots >= 0 and capacity >= 0, got " + slots + " and " + capacity);
        }
        this.layers = config.numLayers();
        this.rowWidth = config.numKvHeads() * config.headDim();
        this.capacity = Math.min(capacity, MAX_ARRAY / rowWidth);
        this.keys = new float[layers][slots][];
        this.values = new float[layers][slots][];
        this.length = new int[slots];
        for (int l = 0; l < layers; l++) {
            for (int s = 0; s < slots; s++) {
                keys[l][s] = new float[0];
                values[l][s] = new float[0];
            }
        }
    }

    public int slots() {
        return length.length;
    }

    public int capacity() {
        return capacity;
    }

    /** Number of positions stored for {@code slot}. */
    public int length(int slot) {
        return length[slot];
    }

    /** Forgets everything stored for {@code slot} (keeps its memory). */
    public void clear(int slot) {
        length[slot] = 0;
    }

    /** Width of one cached row: kvHeads * headDim. */
    int rowWidth() {
        return rowWidth;
    }

    /** Keys of (layer, slot), (capacity so far, kvHeads * headDim); positions beyond length are unused. */
    public float[] keys(int layer, int slot) {
        return keys[layer][slot];
    }

    /** Values of (layer, slot), laid out as {@link #keys}. */
    public float[] values(int layer, int slot) {
        return values[layer][slot];
    }

    /** Makes room for positions {@code [0, newLength)} of {@code slot} in every layer. */
    void reserve(int slot, int newLength) {
        if (newLength > capacity) {
            throw new IpgException("sequence slot " + slot + " needs " + newLength
                    + " positions, more than the cache capacity of " + capacity);
        }
        int need = newLength * rowWidth;
        for (int l = 0; l < layers; l++) {
            if (keys[l][slot].length < need) {
                int grown = Math.min(capacity * rowWidth, Math.max(need, keys[l][slot].length * 2));
                keys[l][slot] = Arrays.copyOf(keys[l][slot], grown);
                values[l][slot] = Arrays.copyOf(values[l][slot], grown);
            }
        }
    }

    void setLength(int slot, int newLength) {
        length[slot] = newLength;
    }

    /** Makes slot {@code to} a copy of slot {@code from} (keys, values and length). */
    public void copySlot(int from, int to) {
        int n = length[from];
        reserve(to, n);
        for (int l = 0; l < layers; l++) {
            System.arraycopy(keys[l][from], 0, keys[l][to], 0, n * rowWidth);
            System.arraycopy(values[l][from], 0, values[l][to], 0, n * rowWidth);
        }
        length[to] = n;
    }

    /** Bytes held by the cache's arrays. */
    public long bytes() {
        long b = 0;
        for (int l = 0; l < layers; l++) {
            for (int s = 0; s < length.length; s++) {
                b += 4L * (keys[l][s].length + values[l][s].length);
            }
        }
        return b;
    }
}
