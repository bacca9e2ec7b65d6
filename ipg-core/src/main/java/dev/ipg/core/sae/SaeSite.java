package dev.ipg.core.sae;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.Site;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The names of an SAE's hook points, as SAELens' HookedSAETransformer spells them: the SAE
 * attached at {@code blocks.L.hook_resid_post} has {@code blocks.L.hook_resid_post.hook_sae_acts_post}
 * (the latents, d_sae), {@code ...hook_sae_recons} (W_dec f + b_dec, d_in) and
 * {@code ...hook_sae_error} (z - z_hat, d_in).
 *
 * @param site  the model site the SAE reads
 * @param point which of its hook points
 */
public record SaeSite(Site site, Point point) {

    /** A hook point of an attached SAE. */
    public enum Point {
        ACTS_POST("hook_sae_acts_post"), RECONS("hook_sae_recons"), ERROR("hook_sae_error");

        private final String suffix;

        Point(String suffix) {
            this.suffix = suffix;
        }

        public String suffix() {
            return suffix;
        }
    }

    private static final Pattern NAME = Pattern.compile("(.+)\\.(hook_sae_acts_post|hook_sae_recons|hook_sae_error)");

    /** Whether {@code name} names an SAE hook point (whatever its site). */
    public static boolean isSaeName(String name) {
        return NAME.matcher(name.strip()).matches();
    }

    /** Parses {@code SITE.hook_sae_*}; throws {@link dev.ipg.core.IpgException} for anything else. */
    public static SaeSite parse(String name) {
        Matcher m = NAME.matcher(name.strip());
        if (!m.matches()) {
            throw new IpgException("unknown SAE site '" + name
                    + "': expected SITE.hook_sae_acts_post, SITE.hook_sae_recons or SITE.hook_sae_error");
        }
        Site site = Site.parse(m.group(1));
        for (Point p : Point.values()) {
            if (p.suffix.equals(m.group(2))) {
                return new SaeSite(site, p);
            }
        }
        throw new AssertionError(name);
    }

    @Override
    public String toString() {
        return site + "." + point.suffix;
    }
}
