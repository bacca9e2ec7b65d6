package dev.ipg.core.sae;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.Site;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Finds and reads an SAE directory in either format: SAELens ({@code cfg.json} +
 * {@code sae_weights.safetensors}), one sparsify SAE ({@code cfg.json} + {@code sae.safetensors}),
 * or a sparsify run with one sub-directory per hook point (the one for the wanted site is taken).
 */
public final class SaeFiles {

    private SaeFiles() {
    }

    /**
     * Reads the SAE in {@code dir}. When {@code dir} holds one sub-directory per hook point,
     * {@code site} (may be null if there is only one) chooses among them.
     */
    public static Sae load(Path dir, Site site) {
        if (!Files.isDirectory(dir)) {
            throw new IpgException(dir + ": not a directory (an SAE is a directory with cfg.json and its weights)");
        }
        if (SaeLensFormat.isIn(dir)) {
            return SaeLensFormat.read(dir);
        }
        if (SparsifyFormat.isIn(dir)) {
            return SparsifyFormat.read(dir);
        }
        List<Path> subs = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> Files.isDirectory(p) && (SparsifyFormat.isIn(p) || SaeLensFormat.isIn(p))).sorted().forEach(subs::add);
        } catch (IOException e) {
            throw new IpgException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        if (subs.isEmpty()) {
            throw new IpgException(dir + ": no SAE here: expected cfg.json with sae_weights.safetensors (SAELens) or "
                    + "sae.safetensors (sparsify), or one such sub-directory per hook point");
        }
        if (site == null) {
            if (subs.size() == 1) {
                return load(subs.getFirst(), null);
            }
            throw new IpgException(dir + ": holds SAEs for " + subs.size() + " hook points ("
                    + String.join(", ", subs.stream().map(p -> p.getFileName().toString()).toList()) + "); name the site");
        }
        List<String> names = new ArrayList<>();
        for (Path p : subs) {
            String n = p.getFileName().toString();
            names.add(n);
            Site s = SparsifyFormat.siteOf(n);
            if (site.equals(s) || n.equals(site.toString())) {
                return load(p, null);
            }
        }
        throw new IpgException(dir + ": no SAE for " + site + " (hook points: " + String.join(", ", names) + ")");
    }
}
