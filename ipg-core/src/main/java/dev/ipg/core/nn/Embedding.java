package dev.ipg.core.nn;

import dev.ipg.core.tensor.Matrix;

/** Token (and learned position) embedding lookup: {@code x[r] = E[token[r]] (+ P[pos[r]])}. */
public final class Embedding {

    private Embedding() {
    }

    /** Returns x (R, d). posEmbed may be null. */
    public static float[] forward(Matrix embed, Matrix posEmbed, int[] tokens, int[] pos) {
        int d = embed.cols();
        float[] x = new float[tokens.length * d];
        float[] tmp = posEmbed == null ? null : new float[d];
        for (int r = 0; r < tokens.length; r++) {
            embed.copyRow(tokens[r], x, r * d);
            if (posEmbed != null) {
                posEmbed.copyRow(pos[r], tmp, 0);
                for (int i = 0; i < d; i++) {
                    x[r * d + i] += tmp[i];
                }
            }
        }
        return x;
    }

    /** dE[token[r]] += dx[r]; dP[pos[r]] += dx[r] when dP is non-null. */
    public static void backward(float[] dx, int d, int[] tokens, int[] pos, float[] dE, float[] dP) {
        for (int r = 0; r < tokens.length; r++) {
            int e = tokens[r] * d;
            int p = dP == null ? 0 : pos[r] * d;
            for (int i = 0; i < d; i++) {
                dE[e + i] += dx[r * d + i];
                if (dP != null) {
                    dP[p + i] += dx[r * d + i];
                }
            }
        }
    }
}
