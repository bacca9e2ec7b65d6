package dev.ipg.core.nn;

import dev.ipg.core.IpgException;
import dev.ipg.core.tensor.Kernels;

/**
 * MLP activation functions, named as in Hugging Face configs ({@code hidden_act}). SiLU and the
 * tanh GELU are the engine's kernels ({@link Kernels#silu}, {@link Kernels#geluTanh} and their
 * derivatives): this enum only maps a config name to them. The exact GELU and ReLU, which have no
 * kernel, are defined here.
 */
public enum Activation {
    /** x * sigmoid(x). */
    SILU {
        @Override
        public void apply(Kernels k, float[] x, int n) {
            k.silu(x, 0, n);
        }

        @Override
        public void derivative(Kernels k, float[] x, float[] out, int n) {
            k.siluGrad(x, 0, out, 0, n);
        }
    },
    /** The tanh approximation of GELU (GPT-2's gelu_new, torch's gelu(approximate='tanh')). */
    GELU_TANH {
        @Override
        public void apply(Kernels k, float[] x, int n) {
            k.geluTanh(x, 0, n);
        }

        @Override
        public void derivative(Kernels k, float[] x, float[] out, int n) {
            k.geluTanhGrad(x, 0, out, 0, n);
        }
    },
    /** The exact GELU, x * Phi(x). */
    GELU {
        @Override
        public void apply(Kernels k, float[] x, int n) {
            for (int i = 0; i < n; i++) {
                double v = x[i];
                x[i] = (float) (0.5 * v * (1.0 + erf(v / Math.sqrt(2.0))));
            }
        }

        @Override
        public void derivative(Kernels k, float[] x, float[] out, int n) {
            for (int i = 0; i < n; i++) {
                double v = x[i];
                double cdf = 0.5 * (1.0 + erf(v / Math.sqrt(2.0)));
                double pdf = Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
                out[i] = (float) (cdf + v * pdf);
            }
        }
    },
    /** max(0, x). */
    RELU {
        @Override
        public void apply(Kernels k, float[] x, int n) {
            for (int i = 0; i < n; i++) {
                x[i] = Math.max(0f, x[i]);
            }
        }

        @Override
        public void derivative(Kernels k, float[] x, float[] out, int n) {
            for (int i = 0; i < n; i++) {
                out[i] = x[i] > 0 ? 1f : 0f;
            }
        }
    };

    /** {@code x[i] = act(x[i])} for {@code i < n}, in place, on the kernels {@code k}. */
    public abstract void apply(Kernels k, float[] x, int n);

    /** {@code out[i] = act'(x[i])} for {@code i < n}; {@code out} may be {@code x}. */
    public abstract void derivative(Kernels k, float[] x, float[] out, int n);

    /** Maps a Hugging Face activation name to an activation. */
    public static Activation fromHf(String name) {
        return switch (name) {
            case "silu", "swish" -> SILU;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> GELU_TANH;
            case "gelu" -> GELU;
            case "relu" -> RELU;
            default -> throw new IpgException("unsupported activation '" + name + "' in config.json");
        };
    }

    /** erf(x) to double precision (Abramowitz-Stegun 7.1.26 is too coarse; use a series/continued fraction). */
    static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 2.5) {
            // Maclaurin series: erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
            double term = ax;
            double sum = ax;
            double x2 = ax * ax;
            for (int n = 1; n < 200; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
                    break;
                }
            }
            r = 2.0 / Math.sqrt(Math.PI) * sum;
        } else {
            // Continued fraction for erfc, converges fast for x >= 2.5.
            double f = 0.0;
            for (int n = 60; n >= 1; n--) {
                f = n / 2.0 / (ax + f);
            }
            double erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
            r = 1.0 - erfc;
        }
        return x < 0 ? -r : r;
    }
}
