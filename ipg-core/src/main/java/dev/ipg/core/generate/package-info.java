/**
 * Batched, seeded generation over the model: samplers (greedy, temperature, top-k, top-p),
 * stop conditions and streaming. Depends on {@code model} and {@code tokenize}.
 */
package dev.ipg.core.generate;
