package dev.ipg.core.io;

import dev.ipg.core.tensor.Matrix;

/**
 * Named tensors a model binds its weights to: a checkpoint directory, or heap arrays while
 * training.
 */
public interface TensorSource {

    /** Whether a tensor of that name exists. */
    boolean has(String name);

    /**
     * The tensor as a {@code [rows, cols]} matrix (a 1-D tensor of length cols when rows is 1);
     * throws {@link dev.ipg.core.IpgException} naming the tensor when it is missing or its shape
     * differs.
     */
    Matrix matrix(String name, int rows, int cols);

    /** Where the tensors come from, for messages (e.g. the directory). */
    String describe();
}
