/**
 * Test support shared by the modules' tests: {@link dev.ipg.core.testutil.PyTorchReference} runs
 * the independent float64 PyTorch reference ({@code src/test/python/hf_reference.py}) on a
 * checkpoint directory; {@link dev.ipg.core.testutil.RandomModels} is the set-up of the tests on
 * random checkpoints (their directory, a thread pool, random token ids);
 * {@link dev.ipg.core.testutil.TinyTextModel} writes a tiny random model with the real Qwen3
 * tokenizer. Depends on the JDK, JUnit, {@code dev.ipg.core.model} and {@code dev.ipg.core.tensor}.
 */
package dev.ipg.core.testutil;
