/**
 * Integrated Policy Gradient: the per-prompt estimator (sampling along the path from a baseline
 * to the real activation, outcome advantages, the policy gradient of each trajectory through the
 * reverse mode, a quadrature over the path), the path variants (from alpha_min, candidate sets),
 * the one mean baseline, its aggregation over a support set, the run directory with resume, the
 * completeness check and the per-point path diagnostics. Depends on {@code data}, {@code run},
 * {@code io}, {@code tensor}, {@code nn}, {@code model}, {@code sae}, {@code grad}, {@code generate},
 * {@code signal}, {@code tokenize} and {@code steer} (an earlier run's scores as candidates). Its
 * sub-package of baselines also uses the evaluation runs, to score the model's own completions.
 */
package dev.ipg.core.attribution;
