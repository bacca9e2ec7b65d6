package dev.ipg.core.model;

import java.util.HashMap;
import java.util.Map;

/**
 * Records a site's activations per sequence and position, across forward passes (prefill then
 * decode steps). {@link #get} returns the rows of positions {@code 0..T-1} as a flat {@code [T, d]}.
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

    /** Activations of {@code site} for sequence {@code seq}, positions 0..T-1, as {@code [T, d]}. */
    public float[] get(Site site, int seq) {
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
