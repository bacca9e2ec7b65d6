/**
 * Evaluation data and statistics: JSONL problem sets (GSM8K, MATH-500 and AIME shapes, or an
 * explicit field mapping), support/evaluation disjointness checks, and Wilson intervals for
 * accuracies. Depends only on {@code dev.ipg.core} and Jackson.
 */
package dev.ipg.core.eval;
