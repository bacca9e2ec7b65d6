/**
 * Outcome signals J(tau): the reward a whole generated trajectory earns (answer correctness,
 * generated length, reflection words, a regular expression, an external verifier process, a
 * reward model, and weighted sums of these), with the answer extraction and equivalence rules
 * that {@code correct} relies on and the think blocks of R1-style reasoning models. Depends on
 * {@code model}, {@code tensor} and {@code tokenize} (the reward model runs the engine) and on
 * Jackson (the external verifier's protocol).
 */
package dev.ipg.core.signal;
