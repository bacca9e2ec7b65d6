/**
 * The selection methods IPG is compared with (ipg-method.md §6): random components, mean
 * activation magnitude, reasoning-word activation contrast, a control vector (correct
 * chain-of-thought vs random letters), raw policy gradient (IPG with one step at alpha = 1) and
 * plain integrated gradients of the gold solution's log-probability. Each writes a run directory
 * in the format of {@code ipg attribute} ({@code scores.safetensors}, {@code top.csv},
 * {@code run.json}). Depends on {@code attribution}, {@code data}, {@code run}, {@code grad}, {@code generate}, {@code eval},
 * {@code signal}, {@code steer}.
 */
package dev.ipg.core.attribution.baselines;
