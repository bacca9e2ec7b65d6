/**
 * Attribution and evaluation over Apache Spark: the {@link dev.ipg.core.run.ScaleOut} that the
 * command line's {@code --spark MASTER} finds through {@link java.util.ServiceLoader}. The driver
 * keeps the run (lock, configuration, resume rule, every file); each executor computes the items
 * it is given with the single-machine code. Depends on the core's {@code run} package only.
 */
package dev.ipg.spark;
