package dev.ipg.core.steer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Intervention;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.Site;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.sae.SaeFingerprint;
import dev.ipg.core.sae.SaeSite;
import dev.ipg.core.sae.SaeSplice;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A change to the model for the whole of a generation (ipg-method.md §5), applied at every
 * position of every forward pass, prompt included: scale chosen components by gamma
 * ({@code h_{t,i} <- gamma h_{t,i}}), add a direction ({@code h_t <- h_t + s v}), or nothing.
 *
 * <p>Written on the command line as an intervention spec:
 * <pre>
 *   SPEC   := 'none'
 *           | 'scale:' PATH (':' OPTION)*      OPTION := top-percent=P | top-count=K | gamma=G | rank=signed|abs | site=SITE
 *           | 'add:' PATH (':' OPTION)*        OPTION := strength=S | site=SITE
 *           | 'reconstruction'                 (with an SAE: the model runs on its reconstruction, no error term)
 * </pre>
 * PATH is a run directory or its {@code scores.safetensors} (scale), or a vector file /
 * a directory holding {@code vector.safetensors} (add). Options are the trailing
 * {@code key=value} segments; everything between the prefix and them is the path, so a path may
 * itself contain ':'. {@code scale} needs one of {@code top-percent} and {@code top-count} (the
 * names of the command-line options {@code --top-percent}, {@code --top-count}; the retired
 * {@code top=} is refused) and {@code gamma} ({@code rank} defaults to signed, {@code site} to the
 * only site of the file); {@code add} needs {@code strength} ({@code site} when the
 * vector file does not name its site).
 * Examples: {@code scale:runs/ipg:top-percent=5:gamma=0}, {@code scale:runs/ipg:top-count=20:gamma=1.5:rank=abs},
 * {@code add:runs/cv/vector.safetensors:strength=4}.
 */
public sealed interface Steering extends java.io.Serializable {

    /**
     * This steering as it travels to the executors of a cluster (what {@link #addTo} needs, no
     * file it was read from), or null when it holds an SAE (which the executors do not get).
     */
    default Steering travelling() {
        return this;
    }

    /** Adds this steering's interventions to {@code hooks} and returns them. */
    Hooks addTo(Hooks hooks);

    /** Fresh hooks with this steering only. */
    default Hooks hooks() {
        return addTo(Hooks.none());
    }

    /** A one-line description. */
    String describe();

    /** What this steering is, for run records (enough to tell two steerings apart). */
    ObjectNode json();

    /** Throws {@link IpgException} unless the steering fits a model with {@code config}. */
    Steering checkIn(ModelConfig config);

    /** No change. */
    record None() implements Steering {
        @Override
        public Hooks addTo(Hooks hooks) {
            return hooks;
        }

        @Override
        public String describe() {
            return "none";
        }

        @Override
        public ObjectNode json() {
            ObjectNode j = JsonNodeFactory.instance.objectNode();
            j.put("kind", "none");
            return j;
        }

        @Override
        public Steering checkIn(ModelConfig config) {
            return this;
        }
    }

    /**
     * Multiplies the selected components by {@code gamma} (0 suppresses, > 1 enhances).
     *
     * @param selection the components
     * @param gamma     the factor, finite
     * @param rule      how the selection was made, e.g. "top 5% by signed score of runs/ipg" (for records)
     * @param scores    the scores file the selection was made from, null when not from a file
     */
    record Scale(Selection selection, double gamma, String rule, ScoresFile scores) implements Steering {
        public Scale {
            if (!Double.isFinite(gamma)) {
                throw new IpgException("gamma must be a finite number, got " + gamma);
            }
        }

        /** A selection not read from a scores file. */
        public Scale(Selection selection, double gamma, String rule) {
            this(selection, gamma, rule, null);
        }

        @Override
        public Steering travelling() {
            return scores == null ? this : new Scale(selection, gamma, rule);
        }

        @Override
        public Hooks addTo(Hooks hooks) {
            return hooks.intervene(selection.site(), new Intervention.Scale(selection.factors(gamma)));
        }

        @Override
        public String describe() {
            return String.format(Locale.ROOT, "scale %s (%s) by gamma %s", selection, rule, plain(gamma));
        }

        @Override
        public ObjectNode json() {
            ObjectNode j = JsonNodeFactory.instance.objectNode();
            j.put("kind", "scale");
            j.put("site", selection.site().toString());
            j.put("gamma", gamma);
            j.put("rule", rule);
            j.put("width", selection.width());
            ArrayNode c = j.putArray("components");
            for (int i : selection.components()) {
                c.add(i);
            }
            return j;
        }

        @Override
        public Steering checkIn(ModelConfig config) {
            checkSite(selection.site(), selection.width(), config);
            return this;
        }
    }

    /**
     * Adds {@code strength * vector} at the vector's site.
     *
     * @param vector   the direction
     * @param strength its multiplier, finite (0: no change)
     * @param source   where the vector came from (for records)
     */
    record Add(SteeringVector vector, double strength, String source) implements Steering {
        public Add {
            if (!Double.isFinite(strength)) {
                throw new IpgException("strength must be a finite number, got " + strength);
            }
        }

        /** The vector actually added, {@code strength * v}. */
        public float[] added() {
            float[] v = vector.values();
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (strength * v[i]);
            }
            return v;
        }

        @Override
        public Hooks addTo(Hooks hooks) {
            return hooks.intervene(vector.site(), new Intervention.Add(added()));
        }

        @Override
        public String describe() {
            return String.format(Locale.ROOT, "add %s x vector of norm %.4g at %s (%s)", plain(strength), vector.norm(),
                    vector.site(), source);
        }

        @Override
        public ObjectNode json() {
            ObjectNode j = JsonNodeFactory.instance.objectNode();
            j.put("kind", "add");
            j.put("site", vector.site().toString());
            j.put("strength", strength);
            j.put("source", source);
            j.put("vector_norm", vector.norm());
            j.put("vector_hash", java.util.Arrays.hashCode(vector.values()));
            return j;
        }

        @Override
        public Steering checkIn(ModelConfig config) {
            checkSite(vector.site(), vector.values().length, config);
            return this;
        }
    }

    /**
     * Multiplies the selected latents of an SAE by {@code gamma} (ipg-method.md §5: encode, scale
     * the chosen latents, decode, add back the error term).
     *
     * @param selection latents of {@code sae} (its width is d_sae)
     * @param gamma     the factor, finite
     * @param rule      how the selection was made (for records)
     * @param sae       the SAE spliced in at {@code selection.site()}
     */
    record ScaleLatents(Selection selection, double gamma, String rule, Sae sae) implements Steering {
        public ScaleLatents {
            if (!Double.isFinite(gamma)) {
                throw new IpgException("gamma must be a finite number, got " + gamma);
            }
            if (!sae.site().equals(selection.site()) || sae.dSae() != selection.width()) {
                throw new IpgException("the selection of " + selection.width() + " components at " + selection.site()
                        + " are not the latents of " + sae);
            }
        }

        @Override
        public Steering travelling() {
            return null;
        }

        @Override
        public Hooks addTo(Hooks hooks) {
            return new SaeSplice(sae).intervene(new Intervention.Scale(selection.factors(gamma))).addTo(hooks);
        }

        @Override
        public String describe() {
            return String.format(Locale.ROOT, "scale %d of %d latents of the SAE at %s (%s) by gamma %s", selection.size(),
                    sae.dSae(), sae.site(), rule, plain(gamma));
        }

        @Override
        public ObjectNode json() {
            ObjectNode j = JsonNodeFactory.instance.objectNode();
            j.put("kind", "scale");
            j.put("site", sae.name(SaeSite.Point.ACTS_POST));
            j.put("gamma", gamma);
            j.put("rule", rule);
            j.put("width", selection.width());
            j.set("sae", SaeFingerprint.json(sae));
            ArrayNode c = j.putArray("components");
            for (int i : selection.components()) {
                c.add(i);
            }
            return j;
        }

        @Override
        public Steering checkIn(ModelConfig config) {
            sae.checkIn(config);
            return this;
        }
    }

    /**
     * Runs the model on an SAE's reconstruction alone: at its site {@code z <- z_hat = W_dec f + b_dec}
     * (normalization undone), the error term dropped. The accuracy under this steering is "the
     * model's accuracy with the SAE spliced in".
     *
     * @param sae the SAE whose reconstruction replaces its site
     */
    record Reconstruction(Sae sae) implements Steering {
        @Override
        public Steering travelling() {
            return null;
        }

        @Override
        public Hooks addTo(Hooks hooks) {
            return new SaeSplice(sae).withoutErrorTerm().addTo(hooks);
        }

        @Override
        public String describe() {
            return "the reconstruction of the " + sae + " in place of " + sae.site() + " (no error term)";
        }

        @Override
        public ObjectNode json() {
            ObjectNode j = JsonNodeFactory.instance.objectNode();
            j.put("kind", "reconstruction");
            j.put("site", sae.name(SaeSite.Point.RECONS));
            j.set("sae", SaeFingerprint.json(sae));
            return j;
        }

        @Override
        public Steering checkIn(ModelConfig config) {
            sae.checkIn(config);
            return this;
        }
    }

    /** No steering. */
    static Steering none() {
        return new None();
    }

    /** Scale the {@code top} components of a scores file by {@code gamma}; a file of SAE latents needs {@link #scale(ScoresFile, Top, Rank, double, Sae)}. */
    static Scale scale(ScoresFile scores, Top top, Rank rank, double gamma) {
        if (scores.latents()) {
            throw new IpgException(scores.file() + " scores the latents of an SAE at " + scores.site() + "; give that SAE (--sae DIR)");
        }
        return new Scale(scores.select(top, rank), gamma, rule(scores, top, rank), scores);
    }

    /**
     * Scale the {@code top} components of a scores file by {@code gamma}: through {@code sae} when
     * the file scores its latents, directly otherwise ({@code sae} may then be null).
     */
    static Steering scale(ScoresFile scores, Top top, Rank rank, double gamma, Sae sae) {
        if (!scores.latents() || sae == null) {
            return scale(scores, top, rank, gamma);
        }
        if (!sae.site().equals(scores.site()) || sae.dSae() != scores.scores().length) {
            throw new IpgException(scores.file() + " scores " + scores.scores().length + " latents at " + scores.site()
                    + ", which do not belong to " + sae);
        }
        return new ScaleLatents(scores.select(top, rank), gamma, rule(scores, top, rank), sae);
    }

    private static String rule(ScoresFile scores, Top top, Rank rank) {
        return "top " + Top.format(top) + " by " + (rank == Rank.ABS ? "|score|" : "signed score") + " of " + scores.file();
    }

    /** As {@link #parse(String)}, with scores of SAE latents applied through {@code sae} (may be null). */
    static Steering parse(String spec, Sae sae) {
        return parse(spec, sae, true);
    }

    /**
     * Parses an intervention spec (see the class comment) and loads the files it names.
     *
     * @throws IpgException with a one-line message on any problem
     */
    static Steering parse(String spec) {
        return parse(spec, null, false);
    }

    private static Steering parse(String spec, Sae sae, boolean withSae) {
        String s = spec == null ? "" : spec.strip();
        if (s.equals("none")) {
            return none();
        }
        if (s.equals("reconstruction")) {
            if (sae == null) {
                throw bad(spec, "the reconstruction needs the SAE (--sae DIR)");
            }
            return new Reconstruction(sae);
        }
        String kind;
        if (s.startsWith("scale:")) {
            kind = "scale";
        } else if (s.startsWith("add:")) {
            kind = "add";
        } else {
            throw bad(spec, "expected none, scale:RUN_DIR:top-percent=P:gamma=G (or top-count=K), add:VECTOR_FILE:strength=S or reconstruction (with --sae)");
        }
        Set<String> keys = kind.equals("scale") ? Set.of("top-percent", "top-count", "gamma", "rank", "site") : Set.of("strength", "site");
        List<String> parts = new ArrayList<>(List.of(s.substring(kind.length() + 1).split(":", -1)));
        Map<String, String> opts = new LinkedHashMap<>();
        while (parts.size() > 1) {
            String last = parts.getLast();
            int eq = last.indexOf('=');
            if (eq <= 0) {
                break;
            }
            String key = last.substring(0, eq).strip();
            if (key.equals("top") && kind.equals("scale")) {
                throw bad(spec, "top= is retired: write top-percent=P (a percentage) or top-count=K (a number of components)");
            }
            if (!keys.contains(key)) {
                if (key.matches("[a-z_-]+")) {
                    throw bad(spec, "unknown option '" + key + "' for " + kind + " (use " + String.join(", ", keys.stream().sorted().toList()) + ")");
                }
                break;
            }
            if (opts.containsKey(key)) {
                throw bad(spec, "option '" + key + "' given twice");
            }
            opts.put(key, last.substring(eq + 1).strip());
            parts.removeLast();
        }
        String path = String.join(":", parts).strip();
        if (path.isEmpty()) {
            throw bad(spec, "no path after '" + kind + ":'");
        }
        if (kind.equals("scale")) {
            boolean percent = opts.containsKey("top-percent");
            if (percent == opts.containsKey("top-count") || !opts.containsKey("gamma")) {
                throw bad(spec, "scale needs one of top-percent=P or top-count=K, and gamma=G");
            }
            Top top;
            try {
                top = percent ? Top.percent(opts.get("top-percent")) : Top.count(opts.get("top-count"));
            } catch (IpgException e) {
                throw bad(spec, e.getMessage());
            }
            double gamma = number(spec, "gamma", opts.get("gamma"));
            Rank rank = opts.containsKey("rank") ? Rank.parse(opts.get("rank")) : Rank.SIGNED;
            String siteOpt = opts.get("site");
            Site site = siteOpt == null ? null : SaeSite.isSaeName(siteOpt) ? SaeSite.parse(siteOpt).site() : Site.parse(siteOpt);
            ScoresFile sf = ScoresFile.load(Path.of(path), site);
            return withSae ? scale(sf, top, rank, gamma, sae) : scale(sf, top, rank, gamma);
        }
        if (!opts.containsKey("strength")) {
            throw bad(spec, "add needs strength=S");
        }
        double strength = number(spec, "strength", opts.get("strength"));
        Site site = opts.containsKey("site") ? Site.parse(opts.get("site")) : null;
        return new Add(SteeringVector.load(Path.of(path), site), strength, path);
    }

    private static double number(String spec, String key, String value) {
        try {
            double v = Double.parseDouble(value);
            if (Double.isFinite(v)) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw bad(spec, key + " '" + value + "' is not a finite number");
    }

    private static IpgException bad(String spec, String why) {
        return new IpgException("bad intervention '" + spec + "': " + why);
    }

    private static void checkSite(Site site, int width, ModelConfig config) {
        site.checkIn(config);
        if (site.width(config) != width) {
            throw new IpgException("the steering at " + site + " has " + width + " components, the model's site has "
                    + site.width(config));
        }
    }

    /** A number without trailing zeros: 1.5, 0, 2. */
    private static String plain(double v) {
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }
}
