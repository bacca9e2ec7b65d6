/**
 * Reverse mode for the model's full-sequence (teacher-forced) pass: gradients of a weighted sum
 * of token log-probabilities with respect to per-component interpolation coefficients at a hook
 * site (what Integrated Policy Gradient needs), to the site activation per position, and to all
 * weights (training): it packs trajectories into one pass, runs the LM head and the final norm
 * forward and back, asks each block of the model for its backward ({@code model.Block}) and
 * captures the gradient at the site. The LM head is processed in row chunks so T x V logits
 * never exist at once.
 * Depends on {@code tensor}, {@code model}, {@code nn} and {@code sae} (whose latents can be the components).
 */
package dev.ipg.core.grad;
