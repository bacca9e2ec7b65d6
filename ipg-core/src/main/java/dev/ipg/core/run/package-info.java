/**
 * What every resumable run shares: the recorded configuration that identifies a run directory
 * (a run resumes only into a directory whose configuration equals its own, model content
 * included), the derivation of per-item random seeds from a run seed, the progress listener
 * long runs report to, and the {@link dev.ipg.core.run.ScaleOut} seam through which a run's items
 * are computed on a cluster (found with ServiceLoader). Depends only on {@code io} and Jackson; attribution, evaluation and the
 * comparison build on it.
 */
package dev.ipg.core.run;
