/**
 * Control through components (ipg-method.md §5): selecting the top components of a scores file
 * ({@link dev.ipg.core.steer.Selection}), scaling them by gamma at every position or adding a
 * direction ({@link dev.ipg.core.steer.Steering}), the intervention spec strings of the
 * command line, and the files other tools share: plain safetensors vectors and scores, repeng's
 * GGUF control vectors ({@link dev.ipg.core.steer.RepengControlVector}) and score tables for
 * pandas ({@link dev.ipg.core.steer.ScoresTable}). Depends on {@code tensor}, {@code model}, {@code io}, {@code run}
 * and {@code sae} (selections of SAE latents are applied through the SAE).
 */
package dev.ipg.core.steer;
