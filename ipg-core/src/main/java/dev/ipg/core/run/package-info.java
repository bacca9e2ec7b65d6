/**
 * What every resumable run shares: the recorded configuration that identifies a run directory
 * (a run resumes only into a directory whose configuration equals its own, model content
 * included), the skeleton of a resumable run ({@link dev.ipg.core.run.RunDirectory}: lock,
 * configuration, leftovers, finished items, progress), the typed records of an attribution
 * run's files ({@link dev.ipg.core.run.AttributionFiles}), of an evaluation's figures
 * ({@link dev.ipg.core.run.EvalResults}) and of the files of a comparison
 * ({@link dev.ipg.core.run.ComparisonFiles}, {@link dev.ipg.core.run.ProtocolFiles}), read and written through
 * {@link dev.ipg.core.run.RunFiles}, the per-component statistics and {@code top.csv}
 * ({@link dev.ipg.core.run.ComponentStats}), the completeness check
 * ({@link dev.ipg.core.run.CompletenessCheck}), the derivation of per-item random seeds and the
 * progress listener long runs report to, and the {@link dev.ipg.core.run.ScaleOut} seam through which
 * a run's items are computed on a cluster (found with ServiceLoader). Depends only on {@code data}, {@code io}, {@code model}
 * and Jackson; attribution, evaluation, the comparison and the report build on it.
 */
package dev.ipg.core.run;
