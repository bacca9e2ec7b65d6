package dev.ipg.core.model;

import java.util.HashMap;
import java.util.Map;

/**
 * Records a site's activations per sequence and position, across forward passes (prefill then
 * decode steps). {@link #get} returns the rows of positions {@code 0..T-1} as a flat {@code [T, d]};
 * {@link #get(Site, int, ModelConfig)} also assembles hook_pattern, whose row at position p holds
 * each head's probabilities over keys {@code 0..p}, as {@code [heads, T, T]} (zero above the diagonal).
 */
public final class ActivationCache implements Hooks.Reader {

    private final Map<Site, Map<Integer, Map<Integer, float[]>>> store = new HashMap<>();

    @Override
    public void read(Site site, float[] act, int width, Batch batch) {
        var bySeq = store.computeIfAbsent(site, s -> new HashMap<>());
        for (int r = 0; r < batch.rows(); r++) {
            float[] row = new float[width];
            System.arraycopy(act, r * width, row, 0, width);
            bySeq.computeIfAbsent(batch.seq()[r], q -> new HashMap<>()).put(batch.pos()[r], row);
        }
    }

    /**
     * Activations of {@code site} for sequence {@code seq} laid out as {@link Site#shape} says:
     * {@code [heads, T, T]} for hook_pattern, as {@link #get(Site, int)} otherwise.
     */
    public float[] get(Site site, int seq, ModelConfig config) {
        if (site.kind() != Site.Kind.ATTN_PATTERN) {
            return get(site, seq);
        }
        var rows = store.getOrDefault(site, Map.of()).getOrDefault(seq, Map.of());
        int t = rows.size();
        int heads = config.numHeads();
        float[] out = new float[heads * t * t];
        for (int p = 0; p < t; p++) {
            float[] row = rows.get(p);
            if (row == null) {
                throw new IllegalStateException(site + ": position " + p + " of sequence " + seq + " was not recorded");
            }
            int w = row.length / heads;   // keys 0..w-1 of this row's pass, those after p are zero
            for (int h = 0; h < heads; h++) {
                System.arraycopy(row, h * w, out, (h * t + p) * t, Math.min(p + 1, w));
            }
        }
        return out;
    }

    /** Activations of {@code site} for sequence {@code seq}, positions 0..T-1, as {@code [T, d]} (not for hook_pattern). */
    public float[] get(Site site, int seq) {
        if (site.kind() == Site.Kind.ATTN_PATTERN) {
            throw new IllegalStateException(site + " has rows of different lengths: use get(site, seq, config)");
        }
        var rows = store.getOrDefault(site, Map.of()).getOrDefault(seq, Map.of());
        int t = rows.size();
        if (t == 0) {
            return new float[0];
        }
        int d = rows.values().iterator().next().length;
        float[] out = new float[t * d];
        for (int p = 0; p < t; p++) {
            float[] row = rows.get(p);
            if (row == null) {
                throw new IllegalStateException(site + ": position " + p + " of sequence " + seq + " was not recorded");
            }
            System.arraycopy(row, 0, out, p * d, d);
        }
        return out;
    }

    /** Number of recorded positions of {@code site} for {@code seq}. */
    public int length(Site site, int seq) {
        return store.getOrDefault(site, Map.of()).getOrDefault(seq, Map.of()).size();
    }
}
