package dev.ipg.core.model;

/**
 * The rows of one forward pass. Row {@code r} feeds token {@code tokens[r]} of sequence
 * {@code seq[r]} (a slot of the {@link KVCache}) at position {@code pos[r]}. Rows of one sequence
 * appear in increasing, contiguous positions that continue the sequence's cache. A prefill of one
 * prompt is one sequence with positions 0..T-1; a batched decode step is one row per sequence.
 */
public record Batch(int[] tokens, int[] seq, int[] pos) {

    public Batch {
        if (tokens.length != seq.length || tokens.length != pos.length) {
            throw new IllegalArgumentException("tokens, seq and pos differ in length");
        }
    }

    /** Number of rows. */
    public int rows() {
        return tokens.length;
    }

    /** One sequence {@code seq}, tokens at positions {@code start, start + 1, ...}. */
    public static Batch ofSequence(int seq, int start, int[] tokens) {
        int[] s = new int[tokens.length];
        int[] p = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            s[i] = seq;
            p[i] = start + i;
        }
        return new Batch(tokens.clone(), s, p);
    }
}
