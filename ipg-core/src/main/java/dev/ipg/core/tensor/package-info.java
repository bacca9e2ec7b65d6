/**
 * Float kernels of the engine (matmul, gemm, dot, axpy, norms, softmax, SwiGLU and GELU
 * activations and their derivatives, the backward products of matmul) behind one
 * {@link dev.ipg.core.tensor.Kernels} interface, with the scalar specification
 * {@link dev.ipg.core.tensor.ScalarKernels} and a Vector API implementation chosen at start-up
 * ({@code VectorKernels}, split by concern into decode streaming, GEMM, backward products and
 * element-wise kernels); {@link dev.ipg.core.tensor.Matrix} views over memory segments; the
 * bounded thread pool. Depends on nothing else in ipg.
 */
package dev.ipg.core.tensor;
