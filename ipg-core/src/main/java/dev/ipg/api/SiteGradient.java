package dev.ipg.api;

/**
 * The gradient of {@code L = sum_{t >= from} log p(x_t | x_<t)} (the log-probability of a token
 * sequence from position {@code from} on) with respect to one hook site.
 *
 * @param objective   L
 * @param activation  the site's activation h, shaped like {@link Activations}
 * @param gradient    dL/dh at every position, same shape
 * @param scaleGrad   dL/dalpha_i for one scale per component applied at every position
 *                    ({@code h_{t,i} <- alpha_i h_{t,i}} at alpha = 1): {@code sum_t h_{t,i} dL/dh_{t,i}}
 */
public record SiteGradient(double objective, Activations activation, Activations gradient, float[] scaleGrad) {

    /** Copies {@code scaleGrad}. */
    public SiteGradient {
        scaleGrad = scaleGrad.clone();
    }

    /** @return a copy of dL/dalpha, one value per component */
    @Override
    public float[] scaleGrad() {
        return scaleGrad.clone();
    }
}
