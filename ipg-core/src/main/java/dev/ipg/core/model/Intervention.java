package dev.ipg.core.model;

import dev.ipg.core.IpgException;

/**
 * A change applied to a site's activations at every position the forward pass computes
 * (prompt and generated alike, in decode and full-sequence modes).
 */
public sealed interface Intervention {

    /**
     * Modifies {@code act}, which holds {@code batch.rows()} rows of {@code width} components
     * ({@code act[r * width + i]}), in place.
     */
    void apply(Site site, float[] act, int width, Batch batch);

    /**
     * As {@link #apply(Site, float[], int, Batch)} at a site of {@code units} components over rows
     * of {@code width} floats ({@code width / units} consecutive floats per component: whole
     * heads). The default, for callbacks, sees the rows as they are.
     */
    default void apply(Site site, float[] act, int width, int units, Batch batch) {
        apply(site, act, width, batch);
    }

    /**
     * Multiplies component i by {@code gamma[i]} (gamma 0 suppresses, > 1 enhances); at a site of
     * whole heads, every value of head i.
     */
    record Scale(float[] gamma) implements Intervention {
        @Override
        public void apply(Site site, float[] act, int width, Batch batch) {
            apply(site, act, width, width, batch);
        }

        @Override
        public void apply(Site site, float[] act, int width, int units, Batch batch) {
            checkWidth(site, gamma.length, units);
            int group = width / units;
            for (int r = 0; r < batch.rows(); r++) {
                int o = r * width;
                for (int i = 0; i < width; i++) {
                    act[o + i] *= gamma[i / group];
                }
            }
        }
    }

    /** Adds {@code vector} to every row (not defined on whole heads: add at hook_z instead). */
    record Add(float[] vector) implements Intervention {
        @Override
        public void apply(Site site, float[] act, int width, int units, Batch batch) {
            if (units != width) {
                throw new IpgException("cannot add a vector at " + site + ": its components are whole heads; "
                        + "add at " + new Site(site.layer(), Site.Kind.ATTN_Z) + " (heads * head_dim components)");
            }
            apply(site, act, width, batch);
        }

        @Override
        public void apply(Site site, float[] act, int width, Batch batch) {
            checkWidth(site, vector.length, width);
            for (int r = 0; r < batch.rows(); r++) {
                int o = r * width;
                for (int i = 0; i < width; i++) {
                    act[o + i] += vector[i];
                }
            }
        }
    }

    /** Any other change, given as a function. */
    record Callback(Function fn) implements Intervention {
        @Override
        public void apply(Site site, float[] act, int width, Batch batch) {
            fn.apply(site, act, width, batch);
        }
    }

    /** The body of a {@link Callback}. */
    @FunctionalInterface
    interface Function {
        void apply(Site site, float[] act, int width, Batch batch);
    }

    private static void checkWidth(Site site, int have, int width) {
        if (have != width) {
            throw new IpgException("intervention on " + site + " has " + have
                    + " components, the site has " + width);
        }
    }
}
