/**
 * Float kernels of the engine (matmul, dot, axpy, norms, softmax, SwiGLU and GELU activations) behind one
 * {@link dev.ipg.core.tensor.Kernels} interface, with a scalar reference implementation and a
 * Vector API implementation chosen at start-up; {@link dev.ipg.core.tensor.Matrix} views over
 * memory segments; the bounded thread pool. Depends on nothing else in ipg.
 */
package dev.ipg.core.tensor;
