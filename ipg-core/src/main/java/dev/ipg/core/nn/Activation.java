package dev.ipg.core.nn;

import dev.ipg.core.IpgException;

/** MLP activation functions, named as in Hugging Face configs ({@code hidden_act}). */
public enum Activation {
    /** x * sigmoid(x). */
    SILU {
        @Override
        public float apply(float x) {
            return (float) (x / (1.0 + Math.exp(-x)));
        }

        @Override
        public float derivative(float x) {
            double s = 1.0 / (1.0 + Math.exp(-x));
            return (float) (s * (1.0 + x * (1.0 - s)));
        }
    },
    /** The tanh approximation of GELU (GPT-2's gelu_new, torch's gelu(approximate='tanh')). */
    GELU_TANH {
        @Override
        public float apply(float x) {
            double u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
            return (float) (0.5 * x * (1.0 + Math.tanh(u)));
        }

        @Override
        public float derivative(float x) {
            double u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
            double t = Math.tanh(u);
            double du = SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x);
            return (float) (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du);
        }
    },
    /** The exact GELU, x * Phi(x). */
    GELU {
        @Override
        public float apply(float x) {
            return (float) (0.5 * x * (1.0 + erf(x / Math.sqrt(2.0))));
        }

        @Override
        public float derivative(float x) {
            double cdf = 0.5 * (1.0 + erf(x / Math.sqrt(2.0)));
            double pdf = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
            return (float) (cdf + x * pdf);
        }
    },
    /** max(0, x). */
    RELU {
        @Override
        public float apply(float x) {
            return Math.max(0f, x);
        }

        @Override
        public float derivative(float x) {
            return x > 0 ? 1f : 0f;
        }
    };

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    public abstract float apply(float x);

    /** d apply / d x. */
    public abstract float derivative(float x);

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
