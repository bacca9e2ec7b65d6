package dev.ipg.core.steer;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.model.Site;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Matrix;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A direction at a site, added to the activation at every position when steering. Stored as a
 * safetensors file with the tensor {@code vector} [d] (F32) and the metadata {@code ipg.site}:
 * {@code numpy} reads it with a dozen lines, and a file written by numpy or the
 * {@code safetensors} package without the metadata is read when the site is given.
 *
 * @param site   where it is added
 * @param values the direction (d)
 */
public record SteeringVector(Site site, float[] values) implements java.io.Serializable {

    /** The file name used inside a run directory. */
    public static final String NAME = "vector.safetensors";

    public SteeringVector {
        values = values.clone();
        for (float v : values) {
            if (!Float.isFinite(v)) {
                throw new IpgException("steering vector for " + site + " has a non-finite entry");
            }
        }
    }

    @Override
    public float[] values() {
        return values.clone();
    }

    /** Euclidean norm. */
    public double norm() {
        double s = 0;
        for (float v : values) {
            s += (double) v * v;
        }
        return Math.sqrt(s);
    }

    /**
     * The direction of a selection: the scores of the selected components, zero elsewhere,
     * scaled to unit norm (the sign of each score kept), so that adding {@code s} times it moves
     * the selected components in the direction their scores point, by {@code s} in total.
     *
     * @throws IpgException when every selected score is zero
     */
    public static SteeringVector ofSelection(Selection selection, float[] scores) {
        if (scores.length != selection.width()) {
            throw new IpgException("scores have " + scores.length + " components, the selection's site " + selection.width());
        }
        double ss = 0;
        for (int c : selection.components()) {
            ss += (double) scores[c] * scores[c];
        }
        if (!(ss > 0)) {
            throw new IpgException("every selected score of " + selection.site() + " is zero: the selection has no direction");
        }
        double norm = Math.sqrt(ss);
        float[] v = new float[scores.length];
        for (int c : selection.components()) {
            v[c] = (float) (scores[c] / norm);
        }
        return new SteeringVector(selection.site(), v);
    }

    /** Reads a vector file, or {@code vector.safetensors} inside a run directory; the file must name its site. */
    public static SteeringVector load(Path fileOrDir) {
        return load(fileOrDir, null);
    }

    /**
     * Reads a vector file, or {@code vector.safetensors} inside a run directory. The direction is
     * the tensor {@code vector} or, when the file holds a single tensor, that tensor, of shape
     * [d] or [1, d] in F32, F16 or BF16 (a file written with numpy or the {@code safetensors}
     * package needs nothing else). The site is {@code site} when given, else the file's
     * {@code ipg.site} metadata; when both are present they must agree.
     *
     * @param site the site to add the vector at, or null to take it from the file
     */
    public static SteeringVector load(Path fileOrDir, Site site) {
        Path file = Files.isDirectory(fileOrDir) ? fileOrDir.resolve(NAME) : fileOrDir;
        if (!Files.isRegularFile(file)) {
            throw new IpgException("steering vector " + file + " does not exist");
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String name;
            if (f.has("vector")) {
                name = "vector";
            } else if (f.names().size() == 1) {
                name = f.names().iterator().next();
            } else {
                throw new IpgException(file + " has no tensor 'vector' and " + f.names().size()
                        + " tensors (" + String.join(", ", new java.util.TreeSet<>(f.names())) + "); name the direction 'vector'");
            }
            String recorded = f.metadata().get("ipg.site");
            if (site == null && recorded == null) {
                throw new IpgException(file + " does not name its site (metadata ipg.site); give the site (--site SITE)");
            }
            if (site != null && recorded != null && !Site.parse(recorded).equals(site)) {
                throw new IpgException(file + " is a vector for " + recorded + ", not " + site);
            }
            long[] shape = f.info(name).shape();
            if (!(shape.length == 1 || (shape.length == 2 && shape[0] == 1))) {
                throw new IpgException("tensor '" + name + "' in " + file + " has shape " + java.util.Arrays.toString(shape)
                        + "; a steering vector is [d] or [1, d]");
            }
            Matrix m = f.matrix(name);
            float[] v = new float[m.cols()];
            m.copyRow(0, v, 0);
            return new SteeringVector(site != null ? site : Site.parse(recorded), v);
        }
    }

    /** Writes the vector (atomically) with optional extra metadata pairs {@code key, value, ...}. */
    public void write(Path file, String... metadata) {
        SafetensorsWriter w = new SafetensorsWriter().add("vector", values, new long[] {values.length}, DType.F32);
        w.metadata("ipg.site", site.toString());
        for (int i = 0; i + 1 < metadata.length; i += 2) {
            w.metadata(metadata[i], metadata[i + 1]);
        }
        w.write(file);
    }
}
