/**
 * One transformer parameterized by its {@link dev.ipg.core.model.ModelConfig} (Llama, Mistral,
 * Qwen2, Qwen3, GPT-2 and their distills), its named hook sites and interventions, and the KV
 * cache. Depends on {@code tensor} and {@code io}.
 */
package dev.ipg.core.model;
