/**
 * Evaluation: resumable evaluation runs of a possibly steered model over a problem set
 * ({@link dev.ipg.core.eval.EvalRun}), Wilson intervals for accuracies, and the check that
 * evaluation problems do not overlap the support set of the scores that chose the steering.
 * Depends on {@code data}, {@code run}, {@code io}, {@code model}, {@code tokenize},
 * {@code generate}, {@code signal} and {@code steer}. The
 * baselines that need the model's own completions and the comparison of selection methods live
 * above this package, in {@code attribution.baselines} and {@code compare}.
 */
package dev.ipg.core.eval;
