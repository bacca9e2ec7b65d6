package dev.ipg.core.nn;

/**
 * Rotary position embedding, rotate-half convention (Hugging Face): within each head, the pair
 * (i, i + hd/2) is rotated by the angle {@code pos * invFreq[i]}. A rotation's transpose is the
 * rotation by the opposite angle, which is the backward.
 */
public final class Rope {

    private Rope() {
    }

    /** a is (rows, heads * hd); row r is at position pos[r]. Rotates in place. */
    public static void forward(float[] a, int rows, int heads, int hd, int[] pos, double[] invFreq) {
        rotate(a, rows, heads, hd, pos, invFreq, 1);
    }

    /** da is (rows, heads * hd): the gradient with respect to the unrotated input, in place. */
    public static void backward(float[] da, int rows, int heads, int hd, int[] pos, double[] invFreq) {
        rotate(da, rows, heads, hd, pos, invFreq, -1);
    }

    private static void rotate(float[] a, int rows, int heads, int hd, int[] pos, double[] invFreq, int sign) {
        int half = hd / 2;
        float[] cos = new float[half];
        float[] sin = new float[half];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < half; i++) {
                double angle = pos[r] * invFreq[i];
                cos[i] = (float) Math.cos(angle);
                sin[i] = sign * (float) Math.sin(angle);
            }
            for (int h = 0; h < heads; h++) {
                int off = (r * heads + h) * hd;
                for (int i = 0; i < half; i++) {
                    float x1 = a[off + i];
                    float x2 = a[off + half + i];
                    a[off + i] = x1 * cos[i] - x2 * sin[i];
                    a[off + half + i] = x2 * cos[i] + x1 * sin[i];
                }
            }
        }
    }
}
