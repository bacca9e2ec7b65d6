/**
 * One transformer parameterized by its {@link ModelConfig} (Llama, Mistral, Qwen2, Qwen3, GPT-2
 * and their distills), its blocks (each {@link Block}'s forward right beside its backward, with
 * what the forward records for the backward private to the block), its named hook sites and
 * interventions, and the KV cache, and the checks that keep a wrong model from giving silent
 * results: config fields within their domains, every stored tensor used, and a NaN or infinity in
 * a pass named where it arises.
 * Depends on {@code tensor}, {@code io} and {@code nn} (the layers and activations).
 */
package dev.ipg.core.model;
