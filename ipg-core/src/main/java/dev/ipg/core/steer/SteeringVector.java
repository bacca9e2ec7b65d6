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
 * safetensors file with the tensor {@code vector} [d] and the metadata {@code ipg.site}.
 *
 * @param site   where it is added
 * @param values the direction (d)
 */
public record SteeringVector(Site site, float[] values) {

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

    /** Reads a vector file, or {@code vector.safetensors} inside a run directory. */
    public static SteeringVector load(Path fileOrDir) {
        Path file = Files.isDirectory(fileOrDir) ? fileOrDir.resolve(NAME) : fileOrDir;
        if (!Files.isRegularFile(file)) {
            throw new IpgException("steering vector " + file + " does not exist");
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            if (!f.has("vector")) {
                throw new IpgException(file + " has no tensor 'vector'");
            }
            String s = f.metadata().get("ipg.site");
            if (s == null) {
                throw new IpgException(file + " does not name its site (metadata ipg.site)");
            }
            Matrix m = f.matrix("vector");
            if (m.rows() != 1) {
                throw new IpgException("tensor 'vector' in " + file + " is not a vector (" + m.rows() + " x " + m.cols() + ")");
            }
            float[] v = new float[m.cols()];
            m.copyRow(0, v, 0);
            return new SteeringVector(Site.parse(s), v);
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
