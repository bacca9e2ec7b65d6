package dev.ipg.core.sae;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Intervention;
import dev.ipg.core.model.Site;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * An SAE spliced into the model at its site, with the error term added back
 * (ipg-method.md §2 and §5): each row z of the site is encoded, the latent interventions change
 * f into f' (in the order added), the readers of {@code hook_sae_acts_post}, {@code hook_sae_recons}
 * and {@code hook_sae_error} see f', W_dec f' + b_dec and e = z - z_hat, and the model continues
 * on {@code z + s_out W_dec (f' - f)} = z_hat' + e. With no latent intervention the model is
 * unchanged bit for bit. Works in decode and full-sequence modes alike (one row at a time).
 */
public final class SaeSplice {

    private final Sae sae;
    private final List<Intervention> interventions = new ArrayList<>();
    private final Map<SaeSite.Point, List<Hooks.Reader>> readers = new EnumMap<>(SaeSite.Point.class);

    private boolean dropError;

    public SaeSplice(Sae sae) {
        this.sae = sae;
    }

    /**
     * Runs the model on the reconstruction alone, {@code z <- z_hat(f')}, without the error term:
     * what "the loss with the SAE spliced in" measures.
     */
    public SaeSplice withoutErrorTerm() {
        dropError = true;
        return this;
    }

    public Sae sae() {
        return sae;
    }

    /** Changes the latents (an {@link Intervention.Scale} or {@link Intervention.Add} of width d_sae, or a callback). */
    public SaeSplice intervene(Intervention latentIntervention) {
        interventions.add(latentIntervention);
        return this;
    }

    /** Reads one of the SAE's hook points; the reader is called with the SAE's model site and the point's width. */
    public SaeSplice read(SaeSite.Point point, Hooks.Reader reader) {
        readers.computeIfAbsent(point, p -> new ArrayList<>()).add(reader);
        return this;
    }

    /** Registers the splice at the SAE's site (as an intervention there) and returns the hooks. */
    public Hooks addTo(Hooks hooks) {
        return hooks.intervene(sae.site(), new Intervention.Callback(this::apply));
    }

    /** Hooks with only this splice. */
    public Hooks hooks() {
        return addTo(Hooks.none());
    }

    private void apply(Site site, float[] act, int width, Batch batch) {
        int rows = batch.rows();
        int dIn = sae.dIn();
        int dSae = sae.dSae();
        if (width != dIn) {
            throw new IpgException(sae.source() + ": d_in " + dIn + " does not match the width " + width + " of " + site);
        }
        Sae.Code[] codes = new Sae.Code[rows];
        float[] f = new float[rows * dSae];
        for (int r = 0; r < rows; r++) {
            codes[r] = sae.encode(act, r * dIn);
            System.arraycopy(codes[r].f, 0, f, r * dSae, dSae);
        }
        float[] before = interventions.isEmpty() ? f : f.clone();
        for (Intervention iv : interventions) {
            iv.apply(site, f, dSae, batch);
        }
        read(SaeSite.Point.ACTS_POST, site, f, dSae, batch);
        if (readers.containsKey(SaeSite.Point.RECONS)) {
            float[] rec = new float[rows * dIn];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(sae.recons(java.util.Arrays.copyOfRange(f, r * dSae, (r + 1) * dSae)), 0, rec, r * dIn, dIn);
            }
            read(SaeSite.Point.RECONS, site, rec, dIn, batch);
        }
        if (readers.containsKey(SaeSite.Point.ERROR)) {
            float[] err = new float[rows * dIn];
            for (int r = 0; r < rows; r++) {
                float[] zHat = sae.decode(codes[r].f, codes[r]);
                for (int j = 0; j < dIn; j++) {
                    err[r * dIn + j] = act[r * dIn + j] - zHat[j];
                }
            }
            read(SaeSite.Point.ERROR, site, err, dIn, batch);
        }
        if (dropError) {
            for (int r = 0; r < rows; r++) {
                float[] zHat = sae.decode(java.util.Arrays.copyOfRange(f, r * dSae, (r + 1) * dSae), codes[r]);
                System.arraycopy(zHat, 0, act, r * dIn, dIn);
            }
            return;
        }
        if (interventions.isEmpty()) {
            return;
        }
        float[] delta = new float[dSae];
        for (int r = 0; r < rows; r++) {
            boolean any = false;
            for (int i = 0; i < dSae; i++) {
                delta[i] = f[r * dSae + i] - before[r * dSae + i];
                any |= delta[i] != 0f;
            }
            if (any) {
                sae.addDecoded(delta, codes[r], act, r * dIn);
            }
        }
    }

    private void read(SaeSite.Point p, Site site, float[] v, int w, Batch batch) {
        for (Hooks.Reader rd : readers.getOrDefault(p, List.of())) {
            rd.read(site, v, w, batch);
        }
    }
}
