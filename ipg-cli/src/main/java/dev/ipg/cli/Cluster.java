package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.run.ScaleOut;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Supplier;
import picocli.CommandLine;

/**
 * The {@code --spark MASTER} option's two halves. On the driver: finds the engine (a
 * {@link ScaleOut.Provider} on the class path, the ipg-spark module) and describes the command as
 * a {@link Job} (its arguments and working directory). On an executor: rebuilds the command from
 * the job, opens what it needs once per JVM (the model is memory-mapped) and keeps it for the
 * job's next items.
 */
final class Cluster {

    private Cluster() {
    }

    /**
     * A command as an executor rebuilds it.
     *
     * @param args the command line (the subcommand first)
     * @param cwd  the driver's working directory: relative paths of options resolve against it
     */
    record Job(List<String> args, String cwd) implements Serializable {
    }

    /** Help of the {@code --spark} option. */
    static final String HELP = "Compute the items on Apache Spark: local[N] runs an embedded engine with N task slots in this "
            + "process; spark://HOST:PORT (or yarn, k8s://...) a cluster, whose executors read the model and data at the same "
            + "paths (a shared filesystem). Results are identical to a run without it. Needs the ipg-spark module on the class "
            + "path (./ipg adds it once built).";

    /** Connects to {@code master} through the engine on the class path. */
    static ScaleOut open(String master, ProgressListener progress) {
        var provider = ServiceLoader.load(ScaleOut.Provider.class).findFirst().orElseThrow(() -> new IpgException("--spark " + master
                + ": Spark support is not on the class path; build it with './mvnw -B -DskipTests -pl ipg-spark -am package' "
                + "and run through ./ipg, which adds ipg-spark/target/ipg-spark.jar and its libraries"));
        return provider.open(master, "ipg", progress);
    }

    /** The job of the command being run (its original arguments, this working directory). */
    static Job job(CommandLine.Model.CommandSpec spec) {
        List<String> args = spec.commandLine().getParseResult().originalArgs();
        // from the subcommand on (the root's own options, if any, do not matter to an executor)
        int at = args.indexOf(spec.name());
        return new Job(List.copyOf(at < 0 ? args : args.subList(at, args.size())), Path.of("").toAbsolutePath().toString());
    }

    /** The command object of a job, parsed as on the driver, its paths resolved against the driver's directory. */
    static Object parse(Job job) {
        CommandLine cl = new CommandLine(new Main());
        Path base = Path.of(job.cwd());
        cl.registerConverter(Path.class, s -> base.resolve(s));
        CommandLine.ParseResult pr = cl.parseArgs(job.args().toArray(String[]::new));
        return pr.subcommand().commandSpec().userObject();
    }

    /** Refuses to start an item when the model directory is not there (an executor without the shared filesystem). */
    static void requireModel(Path dir) {
        if (!Files.isDirectory(dir)) {
            String host;
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                host = "?";
            }
            throw new IpgException("--model " + dir + ": the model directory is missing on executor host " + host
                    + "; every executor reads it at the same path (put it on a shared filesystem)");
        }
    }

    private static Job cachedJob;
    private static AutoCloseable cached;
    /** Whether {@link #cached} is the driver's (closed by the driver, not here). */
    private static boolean shared;

    /**
     * What {@code opener} opens for {@code job}, opened once per JVM and kept until a different job
     * comes (which closes it). The driver of an embedded engine offers its own with {@link #share},
     * so its executor threads do not open the model a second time.
     */
    @SuppressWarnings("unchecked")
    static synchronized <T extends AutoCloseable> T cached(Job job, Supplier<T> opener) {
        if (!job.equals(cachedJob)) {
            closeCached();
            cached = opener.get();
            cachedJob = job;
        }
        return (T) cached;
    }

    /** Offers what the driver opened for {@code job} to the executors in this JVM (an embedded engine). */
    static synchronized void share(Job job, AutoCloseable opened) {
        closeCached();
        cachedJob = job;
        cached = opened;
        shared = true;
    }

    /** Withdraws what the driver offered with {@link #share}. */
    static synchronized void unshare(Job job) {
        if (shared && job.equals(cachedJob)) {
            cached = null;
            cachedJob = null;
            shared = false;
        }
    }

    private static void closeCached() {
        if (cached != null && !shared) {
            try {
                cached.close();
            } catch (Exception e) {
                // a model closed late only unmaps late
            }
        }
        cached = null;
        cachedJob = null;
        shared = false;
    }
}
