/**
 * Test support shared by the modules' tests: {@link dev.ipg.core.testutil.PyTorchReference} runs
 * the independent float64 PyTorch reference ({@code src/test/python/hf_reference.py}) on a
 * checkpoint directory. Depends on the JDK only; results are read back with {@code dev.ipg.core.io}.
 */
package dev.ipg.core.testutil;
