package dev.ipg.core.steer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.model.Site;
import dev.ipg.core.sae.SaeSite;
import dev.ipg.core.tensor.Matrix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Scores of one site read from a run's {@code scores.safetensors} (written by {@code ipg
 * attribute} and every baseline): the tensor {@code SITE/scores} [d], or {@code scores} [d] with
 * the site named in the {@code ipg.config} metadata or given by the caller. A plain file written
 * with numpy or the {@code safetensors} package, holding {@code scores} [d] (F32, F16 or BF16)
 * and no metadata, is read when the site is given.
 *
 * @param file     the file read
 * @param site     the site the scores belong to
 * @param scores   one score per component
 * @param method   the method recorded in {@code ipg.config} ({@code unknown} when absent)
 * @param metadata the file's metadata
 * @param latents  whether the scores are of the latents of an SAE at {@code site}
 *                 ({@code SITE.hook_sae_acts_post}, IPG-SAE and SAE-R) rather than the site's own components
 */
public record ScoresFile(Path file, Site site, float[] scores, String method, Map<String, String> metadata, boolean latents) {

    /** Scores of a site's own components. */
    public ScoresFile(Path file, Site site, float[] scores, String method, Map<String, String> metadata) {
        this(file, site, scores, method, metadata, false);
    }

    /** The name of the scores file inside a run directory. */
    public static final String NAME = "scores.safetensors";

    /**
     * Reads the scores of {@code site} (null: the only site the file holds) from a run directory
     * or a scores file.
     */
    public static ScoresFile load(Path runDirOrFile, Site site) {
        Path file = Files.isDirectory(runDirOrFile) ? runDirOrFile.resolve(NAME) : runDirOrFile;
        if (!Files.isRegularFile(file)) {
            throw new IpgException(Files.isDirectory(runDirOrFile) ? runDirOrFile + " holds no " + NAME + " (is it a finished run?)"
                    : "scores file " + file + " does not exist");
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> meta = Map.copyOf(f.metadata());
            String method = "unknown";
            List<String> configSites = new ArrayList<>();
            String cfg = meta.get("ipg.config");
            if (cfg != null) {
                JsonNode c = Json.parse(cfg, file + " metadata ipg.config", false);
                method = c.path("method").asText("unknown");
                c.path("sites").forEach(s -> configSites.add(s.asText()));
                if (c.hasNonNull("site")) {
                    configSites.add(c.get("site").asText());
                }
            }
            TreeSet<String> sites = new TreeSet<>();
            for (String n : f.names()) {
                if (n.endsWith("/scores")) {
                    sites.add(n.substring(0, n.length() - "/scores".length()));
                }
            }
            String name;
            String latentName = site == null ? null : site + "." + SaeSite.Point.ACTS_POST.suffix();
            if (site != null) {
                if (f.has(site + "/scores")) {
                    name = site + "/scores";
                } else if (f.has(latentName + "/scores")) {
                    name = latentName + "/scores";
                } else if (f.has("scores") && (configSites.isEmpty() || configSites.equals(List.of(site.toString())) || configSites.equals(List.of(latentName)))) {
                    // a file that does not name its site (e.g. written with numpy) is taken to be of the site asked for
                    name = "scores";
                } else {
                    throw new IpgException(file + " has no scores for " + site + " (it has: "
                            + (sites.isEmpty() ? "none named by site" : String.join(", ", sites)) + ")");
                }
            } else if (sites.size() == 1) {
                name = sites.first() + "/scores";
            } else if (sites.size() > 1) {
                throw new IpgException(file + " holds scores of " + sites.size() + " sites (" + String.join(", ", sites)
                        + "); choose one with site=");
            } else if (f.has("scores") && configSites.size() == 1) {
                name = "scores";
            } else {
                throw new IpgException(file + " holds no SITE/scores tensor and does not name its site"
                        + (f.has("scores") ? "; give the site (--site SITE)" : ""));
            }
            String siteName = name.equals("scores") ? (configSites.isEmpty() ? site.toString() : configSites.getFirst()) : name.substring(0, name.length() - "/scores".length());
            boolean latents = SaeSite.isSaeName(siteName);
            site = latents ? SaeSite.parse(siteName).site() : Site.parse(siteName);
            Matrix m = f.matrix(name);
            if (m.rows() != 1) {
                throw new IpgException("tensor " + name + " in " + file + " is not a vector (" + m.rows() + " x " + m.cols() + ")");
            }
            float[] v = new float[m.cols()];
            m.copyRow(0, v, 0);
            return new ScoresFile(file, site, v, method, meta, latents);
        }
    }

    /**
     * The sites a scores file (or run directory) holds scores of: those of its {@code SITE/scores}
     * tensors, else the one its {@code ipg.config} names; empty for a plain {@code scores} tensor
     * that does not name its site.
     */
    public static List<Site> sites(Path runDirOrFile) {
        Path file = Files.isDirectory(runDirOrFile) ? runDirOrFile.resolve(NAME) : runDirOrFile;
        if (!Files.isRegularFile(file)) {
            throw new IpgException("scores file " + file + " does not exist");
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            TreeSet<String> named = new TreeSet<>();
            for (String n : f.names()) {
                if (n.endsWith("/scores")) {
                    named.add(n.substring(0, n.length() - "/scores".length()));
                }
            }
            if (named.isEmpty() && f.metadata().containsKey("ipg.config")) {
                JsonNode c = Json.parse(f.metadata().get("ipg.config"), file + " metadata ipg.config", false);
                if (c.hasNonNull("site")) {
                    named.add(c.get("site").asText());
                }
                c.path("sites").forEach(x -> named.add(x.asText()));
            }
            return named.stream().map(Site::parse).toList();
        }
    }

    /** Whether every component has the same score (a selection from it is then the lowest indices, not a finding). */
    public boolean isConstant() {
        for (float v : scores) {
            if (Float.compare(v, scores[0]) != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * A warning when a selection from these scores means nothing: every score equal (all zero,
     * typically a signal that never varied), so the "top" components are the lowest indices.
     */
    public java.util.Optional<String> constantWarning() {
        if (!isConstant() || scores.length == 0) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("every score in " + file + " is " + (scores[0] == 0 ? "0 (all zero: the signal never varied, "
                + "or nothing reached the site)" : scores[0]) + "; a selection from it is just the lowest component indices, not a finding");
    }

    /** The top components under {@code rank}. */
    public Selection select(Top top, Rank rank) {
        return Selection.of(site, scores, top, rank);
    }
}
