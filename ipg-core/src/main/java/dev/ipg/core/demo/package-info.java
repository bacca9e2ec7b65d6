/**
 * The bundled demo reasoning model: a seeded synthetic task of chained arithmetic solved in
 * written steps with occasional reflection ("wait, ..." followed by a re-check or a correction),
 * its disjoint train / support / eval splits in GSM8K shape, a character-level Hugging Face
 * tokenizer with a ChatML chat template, and the recipe that trains a small Llama on it and
 * writes a Hugging Face model directory; and the planted-mechanism testbed
 * ({@link dev.ipg.core.demo.Planted}): a rule-based re-check task and a designated set of MLP
 * neurons trained to carry the re-check decision, with its causal check. Depends on {@code train}, {@code model}, {@code grad}, {@code generate},
 * {@code eval}, {@code tokenize}, {@code signal}, {@code tensor} and {@code io}.
 */
package dev.ipg.core.demo;
