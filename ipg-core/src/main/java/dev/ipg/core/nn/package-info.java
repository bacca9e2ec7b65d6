/**
 * The layer operations of the transformer on flat row-major float arrays, each forward right
 * beside its backward (in the manner of llm.c): linear, RMSNorm, LayerNorm, rotary embedding,
 * causal attention over a KV cache, gated and plain MLP activations, embedding, and the chunked
 * token log-probability of the LM head. The model's forward pass and the reverse mode both call
 * these. Depends on {@code tensor}.
 */
package dev.ipg.core.nn;
