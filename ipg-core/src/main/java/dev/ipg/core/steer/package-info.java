/**
 * Control through components (ipg-method.md §5): selecting the top components of a scores file
 * ({@link dev.ipg.core.steer.Selection}), scaling them by gamma at every position or adding a
 * direction ({@link dev.ipg.core.steer.Steering}), and the intervention spec strings of the
 * command line. Depends on {@code model}, {@code io} and {@code sae}
 * (selections of SAE latents are applied through the SAE).
 */
package dev.ipg.core.steer;
