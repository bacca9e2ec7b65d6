/**
 * Sparse autoencoders on a hook site (ipg-method.md §2, §5): the SAELens and EleutherAI sparsify
 * formats read and written as those libraries do, the SAE's encoder and decoder with their
 * backward passes, the splice that runs the model on the SAE's reconstruction plus its error term,
 * and TopK SAE training on the model's own completions. Depends on {@code model}, {@code generate},
 * {@code io} and {@code tensor}.
 */
package dev.ipg.core.sae;
