package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.attribution.baselines.Offload;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.run.ScaleOut;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.signal.Signals;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
        return parseSpec(job).userObject();
    }

    private static CommandLine.Model.CommandSpec parseSpec(Job job) {
        CommandLine cl = new CommandLine(new Main());
        Path base = Path.of(job.cwd());
        cl.registerConverter(Path.class, s -> base.resolve(s));
        List<String> args = new ArrayList<>(job.args());
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                args.set(i, a.substring(0, eq + 1) + resolveIn(a.substring(0, eq), a.substring(eq + 1), base));
            } else if (i + 1 < args.size()) {
                args.set(i + 1, resolveIn(a, args.get(i + 1), base));
            }
        }
        CommandLine.ParseResult pr = cl.parseArgs(args.toArray(String[]::new));
        return pr.subcommand().commandSpec();
    }

    /**
     * The value of a spec option with the file or directory it names resolved against {@code base}
     * (the driver's working directory): {@code --signal ...reward-model:DIR},
     * {@code --candidates RUN_DIR:top=K}, {@code --intervention scale:PATH:...} and
     * {@code add:PATH:...}; any other value as it is.
     */
    static String resolveIn(String option, String value, Path base) {
        switch (option) {
            case "--candidates" -> {
                int at = value.lastIndexOf(":top=");
                return at <= 0 ? value : base.resolve(value.substring(0, at)) + value.substring(at);
            }
            case "--signal" -> {
                int at = value.toLowerCase(Locale.ROOT).indexOf("reward-model:");
                int from = at + "reward-model:".length();
                return at < 0 || value.substring(from).isBlank() ? value : value.substring(0, from) + base.resolve(value.substring(from).strip());
            }
            case "--intervention" -> {
                int colon = value.indexOf(':');
                String kind = colon < 0 ? "" : value.substring(0, colon).strip().toLowerCase(Locale.ROOT);
                if (!kind.equals("scale") && !kind.equals("add")) {
                    return value;
                }
                // the path is everything between the kind and the trailing key=value options
                List<String> parts = new ArrayList<>(List.of(value.substring(colon + 1).split(":", -1)));
                StringBuilder options = new StringBuilder();
                while (parts.size() > 1 && parts.getLast().indexOf('=') > 0) {
                    options.insert(0, ":" + parts.removeLast());
                }
                return value.substring(0, colon + 1) + base.resolve(String.join(":", parts)) + options;
            }
            default -> {
                return value;
            }
        }
    }

    /**
     * Refuses to start an item when the model directory is not there (an executor without the shared
     * filesystem); the engine adds which executor it was.
     */
    static void requireModel(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IpgException("--model " + dir + ": the model directory is missing on this executor; every executor reads it "
                    + "at the same path as the driver (put it on a shared filesystem)");
        }
    }

    /** The {@code --spark MASTER} option of a command whose runs it distributes. */
    static final class SparkOption {
        @CommandLine.Option(names = "--spark", paramLabel = "MASTER", description = HELP)
        String master;

        /**
         * Connects to the cluster for the command of {@code spec} (nothing without {@code --spark}):
         * its runs' items are computed there, and in an embedded engine on what the driver opened.
         */
        Session session(CommandLine.Model.CommandSpec spec, SaeOptions sae, Parallel pool, Transformer model, Tokenizer tok,
                        ProgressListener progress) {
            if (master == null) {
                return new Session(null, null, null);
            }
            ScaleOut cluster = open(master, progress);
            Job job = job(spec);
            Executor here = new Executor(pool, model, tok, sae, null, false);
            share(job, here);
            return new Session(cluster, job, here);
        }
    }

    /** A command's connection to the cluster; closing it withdraws what the driver shared and disconnects. */
    record Session(ScaleOut cluster, Job job, Executor shared) implements AutoCloseable {
        /** Where the command's runs compute their items. */
        Offload offload() {
            if (cluster == null) {
                return Offload.HERE;
            }
            Job j = job;
            return Offload.on(cluster, () -> executor(j));
        }

        @Override
        public void close() {
            if (cluster != null) {
                unshare(job);
                try (ScaleOut c = cluster; Executor e = shared) {
                    // the signals the executors opened here, then the connection
                }
            }
        }
    }

    /** What an executor JVM opens for a job: the model of its {@code --model}, the SAE of its {@code --sae}, signals as asked. */
    static Executor executor(Job job) {
        return cached(job, () -> {
            CommandLine.Model.CommandSpec spec = parseSpec(job);
            ModelOptions mo = mixin(spec, ModelOptions.class);
            requireModel(mo.model);
            Parallel pool = mo.pool();
            Transformer m = null;
            try {
                m = mo.load(pool);
                return new Executor(pool, m, Tokenizer.load(mo.dir()), mixin(spec, SaeOptions.class), Path.of(job.cwd()), true);
            } catch (RuntimeException e) {
                try (Parallel p = pool; Transformer m0 = m) {
                    throw e;
                }
            }
        });
    }

    private static <T> T mixin(CommandLine.Model.CommandSpec spec, Class<T> type) {
        for (CommandLine.Model.CommandSpec m : spec.mixins().values()) {
            if (type.isInstance(m.userObject())) {
                return type.cast(m.userObject());
            }
        }
        return null;
    }

    /**
     * The model, tokenizer and SAE options of a command, and the signals its runs ask for (each
     * opened once). The driver's own (of an embedded engine) leaves the model to the command.
     */
    static final class Executor implements Offload.Opened, AutoCloseable {
        private final Parallel pool;
        private final Transformer model;
        private final Tokenizer tok;
        private final SaeOptions saeOptions;
        private final Path base;
        private final boolean ownsModel;
        private final Map<String, Signal> signals = new HashMap<>();
        private final Map<Site, Sae> saes = new HashMap<>();

        /**
         * @param base      the driver's working directory, against which a signal's files resolve (null: this JVM's)
         * @param ownsModel whether closing this closes the model, the tokenizer and the pool
         */
        Executor(Parallel pool, Transformer model, Tokenizer tok, SaeOptions saeOptions, Path base, boolean ownsModel) {
            this.pool = pool;
            this.model = model;
            this.tok = tok;
            this.saeOptions = saeOptions;
            this.base = base;
            this.ownsModel = ownsModel;
        }

        @Override
        public Transformer model() {
            return model;
        }

        @Override
        public Tokenizer tok() {
            return tok;
        }

        @Override
        public synchronized Signal signal(String spec) {
            return signals.computeIfAbsent(spec, s -> Signals.parse(base == null ? s : resolveIn("--signal", s, base), pool));
        }

        @Override
        public synchronized Sae sae(Site site) {
            if (site == null) {
                return null;
            }
            if (saeOptions == null || !saeOptions.given()) {
                throw new IpgException("the attribution is over the latents of an SAE at " + site + ", and the command has no --sae");
            }
            return saes.computeIfAbsent(site, s -> saeOptions.load(model.config(), s));
        }

        @Override
        public synchronized void close() {
            signals.values().forEach(Signal::close);
            signals.clear();
            if (ownsModel) {
                try (Parallel p = pool; Transformer m = model; Tokenizer t = tok) {
                    // closed in reverse order
                }
            }
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
