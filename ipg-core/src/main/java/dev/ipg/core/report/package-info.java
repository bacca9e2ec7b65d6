/**
 * The attribution report: {@link dev.ipg.core.report.RunReader} reads a run directory (and an
 * optional {@code ipg compare} directory) into a {@link dev.ipg.core.report.ReportData} tree,
 * {@link dev.ipg.core.report.ModelProbe} adds what needs the model (where in the reasoning the
 * top components act, token log-probabilities before and after scaling them), and
 * {@link dev.ipg.core.report.HtmlReport} writes one self-contained HTML file with the charting
 * library inlined, plus the same data as JSON and CSV.
 *
 * <p>Depends on {@code io}, {@code nn}, {@code model}, {@code grad}, {@code generate},
 * {@code tokenize}, {@code data}, {@code run} (the typed records of the run files it reads),
 * {@code steer} and {@code signal}; nothing depends on it.
 */
package dev.ipg.core.report;
