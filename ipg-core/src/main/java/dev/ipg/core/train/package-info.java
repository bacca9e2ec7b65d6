/**
 * A small trainer for Llama-architecture models held in heap arrays: AdamW with decoupled
 * weight decay, a warmup + cosine learning-rate schedule, gradient clipping by global norm,
 * seeded data order, progress and held-out evaluation through a listener, early stopping on a
 * probe's measurement, and a counterfactual term with designated weight columns zeroed (how a
 * mechanism is planted). Gradients come from
 * the engine's own reverse mode ({@code grad}); it builds the bundled demo model. Depends on
 * {@code tensor}, {@code model}, {@code grad} and {@code io}.
 */
package dev.ipg.core.train;
