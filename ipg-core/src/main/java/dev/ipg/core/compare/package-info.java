/**
 * The localization protocol: which selection method finds the components a model's behaviour
 * depends on. {@link dev.ipg.core.compare.Comparison} measures one site at one selection size
 * (the paper's Table 1); {@link dev.ipg.core.compare.Protocol} adds curves over the selection
 * size k at several sites, a ground truth by direct ablation on a dev split, the stability of
 * each method's top set between disjoint support halves, a planted ground truth
 * ({@link dev.ipg.core.compare.PlantedTruth}: a testbed's known components, each method's
 * precision and recall against them), and a verdict computed from paired intervals. The statistics ({@link dev.ipg.core.compare.PairedBootstrap},
 * {@link dev.ipg.core.compare.McNemar}, {@link dev.ipg.core.compare.Dice},
 * {@link dev.ipg.core.compare.Spearman}, {@link dev.ipg.core.compare.PrecisionAtK},
 * {@link dev.ipg.core.compare.CurveArea}) depend on nothing.
 *
 * <p>Depends on {@code attribution} (and its baselines), {@code eval}, {@code data}, {@code run},
 * {@code steer}, {@code sae}, {@code grad}, {@code signal}, {@code tokenize}, {@code model} and
 * {@code io}; only the CLI and the report's file readers use it.
 */
package dev.ipg.core.compare;
