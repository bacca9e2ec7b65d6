/**
 * Batched, seeded generation over the model: samplers (greedy, temperature, top-k, top-p),
 * stop conditions and streaming. Depends on {@code model} and {@code nn} (the sampling policy).
 */
package dev.ipg.core.generate;
