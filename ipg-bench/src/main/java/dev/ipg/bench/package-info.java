/** Benchmarks of the engine and the side-by-side comparisons with OpenBLAS and PyTorch. */
package dev.ipg.bench;
