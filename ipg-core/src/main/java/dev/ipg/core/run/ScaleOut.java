package dev.ipg.core.run;

import java.io.Serializable;
import java.util.List;
import java.util.function.Consumer;

/**
 * Computes the items of a run (prompts, blocks of problems) on the executors of a cluster instead
 * of in this process. The run keeps everything else on the driver: the lock, the recorded
 * configuration, the resume rule and every file written; only {@link Task}s travel. A task's
 * result depends on the item alone (its seeds derive from the run seed and the item's index), so
 * the results do not depend on partitioning, executor count or retries.
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader} through {@link Provider}
 * (the {@code ipg-spark} module provides one for Apache Spark).
 */
public interface ScaleOut extends AutoCloseable {

    /**
     * The computation of one item, shipped to an executor: it must open what it needs there (the
     * model directory once per executor JVM) and return the item's result.
     */
    @FunctionalInterface
    interface Task<R extends Serializable> extends Serializable {
        R compute(int item) throws Exception;
    }

    /**
     * Computes {@code task} for every item of {@code items} and hands each result to {@code done}
     * on the calling thread as it arrives (in any order, each item exactly once); returns when all
     * are done.
     *
     * @throws dev.ipg.core.IpgException when an item cannot be computed (its first line says why)
     */
    <R extends Serializable> void run(List<Integer> items, Task<R> task, Consumer<R> done);

    /** Stops the connection to the cluster (or the embedded engine). */
    @Override
    void close();

    /** Opens a {@link ScaleOut} for a master URL. */
    interface Provider {

        /** The engine's name, for messages ("Apache Spark 4.2.0"). */
        String name();

        /**
         * Connects to {@code master} ({@code local[N]}: an engine embedded in this process).
         *
         * @param progress receives messages about the cluster (executors added and lost)
         * @throws dev.ipg.core.IpgException when the master cannot be reached
         */
        ScaleOut open(String master, String appName, ProgressListener progress);
    }
}
