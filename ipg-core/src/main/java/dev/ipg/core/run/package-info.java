/**
 * What every resumable run shares: the recorded configuration that identifies a run directory
 * (a run resumes only into a directory whose configuration equals its own, model content
 * included), the derivation of per-item random seeds from a run seed, and the progress listener
 * long runs report to. Depends only on {@code io} and Jackson; attribution, evaluation and the
 * comparison build on it.
 */
package dev.ipg.core.run;
