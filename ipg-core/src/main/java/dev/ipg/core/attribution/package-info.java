/**
 * Integrated Policy Gradient: the per-prompt estimator (sampling along the path from a baseline
 * to the real activation, outcome advantages, the policy gradient of each trajectory through the
 * reverse mode, a quadrature over the path), its aggregation over a support set, the run
 * directory with resume, and the completeness check. Depends on {@code sae}, {@code grad}, {@code generate},
 * {@code signal}, {@code eval}, {@code tokenize}.
 */
package dev.ipg.core.attribution;
