package dev.ipg.core.sae;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.TensorInfo;
import dev.ipg.core.tensor.Matrix;
import java.util.Arrays;

/** Reading the SAE tensors of a safetensors file with their shapes checked. */
final class Tensors {

    private Tensors() {
    }

    /** Tensor {@code name} of {@code f}, which must have exactly {@code shape}, as a row-major float array. */
    static float[] read(SafetensorsFile f, String name, long... shape) {
        if (!f.has(name)) {
            throw new IpgException(f.path() + ": tensor " + name + " is missing (it has: " + String.join(", ", f.names()) + ")");
        }
        TensorInfo t = f.info(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IpgException(f.path() + ": tensor " + name + " has shape " + t.shapeString() + ", expected "
                    + Arrays.toString(shape) + " from cfg.json");
        }
        Matrix m = f.matrix(name);
        float[] out = new float[Math.toIntExact((long) m.rows() * m.cols())];
        for (int r = 0; r < m.rows(); r++) {
            m.copyRow(r, out, r * m.cols());
        }
        return out;
    }

    /** The transpose of a row-major (rows, cols) array. */
    static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = a[r * cols + c];
            }
        }
        return t;
    }
}
