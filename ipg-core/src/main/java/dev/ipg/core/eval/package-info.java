/**
 * Evaluation: JSONL problem sets (GSM8K, MATH-500 and AIME shapes, or an explicit field
 * mapping), support/evaluation disjointness checks, Wilson intervals for accuracies, resumable
 * evaluation runs of a possibly steered model ({@link dev.ipg.core.eval.EvalRun}) and the
 * comparison of selection methods under enhance and suppress ({@link dev.ipg.core.eval.Comparison}).
 * Datasets and statistics depend only on {@code dev.ipg.core} and Jackson; the runs add
 * {@code generate}, {@code signal}, {@code steer}, {@code attribution} and its baselines.
 */
package dev.ipg.core.eval;
