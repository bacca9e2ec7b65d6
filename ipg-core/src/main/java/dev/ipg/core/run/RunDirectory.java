package dev.ipg.core.run;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.io.RunLock;
import dev.ipg.core.model.Transformer;
import java.nio.file.Path;
import java.util.function.IntPredicate;
import java.util.function.Predicate;

/**
 * The skeleton every resumable run shares: create and lock the directory, record (or check)
 * the configuration that identifies it, clear what a killed run left, count the items already
 * finished and start the progress there; and what run.json records of the machine.
 */
public final class RunDirectory {

    private RunDirectory() {
    }

    /**
     * Creates {@code dir} if needed and takes its {@link RunLock} (refusing a directory another run
     * is writing into). Close the lock when the run ends.
     */
    public static RunLock lock(Path dir) {
        AtomicFiles.createDirectories(dir, "run directory");
        return RunLock.acquire(dir);
    }

    /**
     * With the lock held: records {@code config} in {@code dir/configFile} (refusing a directory
     * that holds another configuration, except in keys {@code mayDiffer} accepts), creates the
     * subdirectories and removes the temporary files a killed run left in all of them.
     */
    public static void prepare(Path dir, String configFile, ObjectNode config, Predicate<String> mayDiffer, String... subdirectories) {
        RunConfig.prepare(dir, configFile, config, mayDiffer);
        AtomicFiles.removeStaleTemporaries(dir);
        for (String sub : subdirectories) {
            AtomicFiles.createDirectories(dir.resolve(sub), "run directory");
            AtomicFiles.removeStaleTemporaries(dir.resolve(sub));
        }
    }

    /** How many of the items 0 .. n-1 are {@code finished}. */
    public static int finished(int n, IntPredicate finished) {
        int done = 0;
        for (int i = 0; i < n; i++) {
            done += finished.test(i) ? 1 : 0;
        }
        return done;
    }

    /** Starts {@code progress} over {@code n} items of {@code unit}, counting those already {@code finished}. */
    public static void start(ProgressListener progress, String unit, int n, IntPredicate finished) {
        progress.start(unit, n, finished(n, finished));
    }

    /**
     * What run.json records of where a run was made.
     *
     * @param threads the worker threads
     * @param kernels the kernel set
     */
    public record Machine(int threads, String kernels) {

        /** The machine {@code model} runs on. */
        public static Machine of(Transformer model) {
            return new Machine(model.pool().threads(), model.kernels().name());
        }
    }
}
