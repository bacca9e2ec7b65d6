/**
 * Float kernels of the engine (matmul, gemm, dot, axpy, norms, softmax, SwiGLU and GELU
 * activations and their derivatives, the backward products of matmul) behind one
 * {@link dev.ipg.core.tensor.Kernels} interface, with the scalar specification
 * {@link dev.ipg.core.tensor.ScalarKernels} and a Vector API implementation chosen at start-up
 * ({@code VectorKernels}, split by concern into decode streaming, GEMM, backward products and
 * element-wise kernels); the optional native BF16 GEMM ({@code NativeBf16}, a C library bound
 * through the FFM API, chosen by {@link dev.ipg.core.tensor.Bf16Compute}); {@link dev.ipg.core.tensor.Matrix} views over memory segments; the
 * bounded thread pool. Depends on nothing else in ipg.
 */
package dev.ipg.core.tensor;
