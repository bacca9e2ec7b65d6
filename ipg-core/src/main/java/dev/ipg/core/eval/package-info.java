/**
 * Evaluation: JSONL problem sets (GSM8K, MATH-500 and AIME shapes, or an explicit field
 * mapping), support/evaluation disjointness checks, Wilson intervals for accuracies, and
 * resumable evaluation runs of a possibly steered model ({@link dev.ipg.core.eval.EvalRun}).
 * Datasets and statistics depend only on {@code dev.ipg.core} and Jackson; the runs add
 * {@code generate}, {@code signal}, {@code steer} and {@code attribution}'s progress listener and seeds. The comparison of selection methods lives
 * above this package, in {@code dev.ipg.core.compare}.
 */
package dev.ipg.core.eval;
