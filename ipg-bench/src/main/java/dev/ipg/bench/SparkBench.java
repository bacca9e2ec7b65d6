package dev.ipg.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Attribution over Apache Spark against the plain command line: {@code ipg attribute} on the first
 * {@code --prompts} support prompts of a model, each run a fresh process, timed from start to end:
 * the plain command, the same with {@code --spark local[1]} (the embedded engine), and on a Spark
 * standalone cluster on this machine (loopback) of 1, 2, ... workers of one core each (a master and
 * the workers started afresh for each run, their start-up included). Every run uses one thread per
 * item, so one executor of one core does the work of the plain command; every run's scores must be
 * the plain run's, byte for byte. Needs ipg-cli/target/ipg.jar and the ipg-spark module's jar and
 * libraries ({@code ./mvnw -B -DskipTests package}).
 */
@Command(name = "spark", mixinStandardHelpOptions = true, sortOptions = false,
        description = "ipg attribute on a standalone Spark cluster of 1, 2, ... one-core workers vs the plain command, each a fresh process.")
public final class SparkBench implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR", defaultValue = "models/ipg-demo", description = "Model (default: ${DEFAULT-VALUE}).")
    Path model;

    @Option(names = "--dataset", paramLabel = "FILE", description = "Support set (default: MODEL/support.jsonl).")
    Path dataset;

    @Option(names = "--site", paramLabel = "SITE", defaultValue = "blocks.2.hook_resid_post", description = "Site (default: ${DEFAULT-VALUE}).")
    String site;

    @Option(names = "--prompts", paramLabel = "M", defaultValue = "16", description = "Support prompts attributed (default: ${DEFAULT-VALUE}).")
    int prompts;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "5", description = "IPG path points, as ipg demo (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "4", description = "Samples per point, as ipg demo (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "256", description = "Generation budget, as ipg demo (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--executors", paramLabel = "N,N", split = ",", defaultValue = "1,2",
            description = "Cluster sizes, in one-core workers (default: ${DEFAULT-VALUE}).")
    List<Integer> executors;

    @Option(names = "--no-embedded", description = "Leave out the run with --spark local[1].")
    boolean noEmbedded;

    @Option(names = "--ipg-jar", paramLabel = "FILE", defaultValue = "ipg-cli/target/ipg.jar", description = "The ipg jar (default: ${DEFAULT-VALUE}).")
    Path ipgJar;

    @Option(names = "--spark-module", paramLabel = "DIR", defaultValue = "ipg-spark/target",
            description = "Where ipg-spark.jar and lib/ (Spark's libraries) are (default: ${DEFAULT-VALUE}).")
    Path sparkModule;

    @Option(names = "--work", paramLabel = "DIR", defaultValue = "bench-out/spark", description = "Run directories and logs (default: ${DEFAULT-VALUE}).")
    Path work;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the results as JSON.")
    Path out;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One timed run. */
    record Timed(String what, double seconds, boolean sameScores) {
    }

    @Override
    public Integer call() throws Exception {
        if (prompts < 1 || steps < 1 || samples < 2 || maxNewTokens < 1 || executors.stream().anyMatch(n -> n < 1)) {
            throw new IllegalStateException("--prompts, --steps, --max-new-tokens and --executors must be >= 1, --samples >= 2");
        }
        Path jar = ipgJar.toAbsolutePath();
        Path sparkJar = sparkModule.resolve("ipg-spark.jar").toAbsolutePath();
        Path lib = sparkModule.resolve("lib").toAbsolutePath();
        if (!Files.isRegularFile(jar) || !Files.isRegularFile(sparkJar) || !Files.isDirectory(lib)) {
            throw new IllegalStateException("needs " + jar + ", " + sparkJar + " and " + lib + "; build them with ./mvnw -B -DskipTests package");
        }
        Path ds = (dataset == null ? model.resolve("support.jsonl") : dataset).toAbsolutePath();
        Files.createDirectories(work);
        Path home = sparkHome(lib);
        List<Timed> runs = new ArrayList<>();

        Path plainDir = work.resolve("plain").toAbsolutePath();
        runs.add(new Timed("plain CLI", attribute(List.of("-jar", jar.toString()), plainDir, null), true));
        byte[] reference = Files.readAllBytes(plainDir.resolve("scores.safetensors"));
        String cp = String.join(File.pathSeparator, jar.toString(), sparkJar.toString(), lib + File.separator + "*");
        List<String> withSpark = List.of("-Xss8m", "--sun-misc-unsafe-memory-access=allow", "-cp", cp, "dev.ipg.cli.Main");
        if (!noEmbedded) {
            Path dir = work.resolve("local1").toAbsolutePath();
            double s = attribute(withSpark, dir, "local[1]");
            runs.add(new Timed("--spark local[1]", s, same(reference, dir)));
        }
        for (int n : executors) {
            Path dir = work.resolve("cluster" + n).toAbsolutePath();
            double s;
            try (Cluster c = Cluster.start(home, lib + File.separator + "*", work.resolve("cluster" + n + "-logs").toAbsolutePath(), n)) {
                List<String> driver = new ArrayList<>(List.of("-Dspark.driver.host=127.0.0.1", "-Dspark.driver.bindAddress=127.0.0.1",
                        "-Dspark.executor.memory=1g"));
                driver.addAll(withSpark);
                s = attribute(driver, dir, c.master);
            }
            runs.add(new Timed(n + " executor" + (n == 1 ? "" : "s") + " x 1 core (standalone)", s, same(reference, dir)));
        }

        double plain = runs.getFirst().seconds();
        System.out.printf(Locale.ROOT, "ipg attribute, %d prompts of %s at %s, q=%d N=%d, %d new tokens, 1 thread per item%n", prompts,
                ds.getFileName(), site, steps, samples, maxNewTokens);
        System.out.printf(Locale.ROOT, "%-36s %9s %9s %9s %s%n", "run", "wall s", "s/prompt", "vs plain", "scores");
        for (Timed t : runs) {
            System.out.printf(Locale.ROOT, "%-36s %9.1f %9.2f %8.2fx %s%n", t.what(), t.seconds(), t.seconds() / prompts, t.seconds() / plain,
                    t.sameScores() ? "identical" : "DIFFER");
        }
        if (out != null) {
            ObjectNode all = JSON.createObjectNode();
            all.put("date", ZonedDateTime.now().toString());
            all.put("machine", BenchEnv.machine());
            all.put("java", Runtime.version().toString());
            all.put("model", model.toString());
            all.put("prompts", prompts);
            all.put("steps", steps);
            all.put("samples", samples);
            all.put("max_new_tokens", maxNewTokens);
            ArrayNode a = all.putArray("runs");
            for (Timed t : runs) {
                a.addObject().put("run", t.what()).put("wall_s", t.seconds()).put("vs_plain", t.seconds() / plain)
                        .put("same_scores", t.sameScores());
            }
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(all));
        }
        return runs.stream().allMatch(Timed::sameScores) ? 0 : 1;
    }

    private static boolean same(byte[] reference, Path dir) throws IOException {
        return Arrays.equals(reference, Files.readAllBytes(dir.resolve("scores.safetensors")));
    }

    /** Runs {@code ipg attribute} afresh in {@code dir} in a new JVM ({@code launch}: how), with {@code --spark master}; its seconds. */
    private double attribute(List<String> launch, Path dir, String master) throws IOException, InterruptedException {
        delete(dir);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules",
                "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xmx2g", "-Dipg.stderr=log"));
        cmd.addAll(launch);
        cmd.addAll(List.of("attribute", "-m", model.toAbsolutePath().toString(), "--dataset",
                (dataset == null ? model.resolve("support.jsonl") : dataset).toAbsolutePath().toString(), "--site", site, "--signal",
                "correct", "-o", dir.toString(), "--limit", Integer.toString(prompts), "--steps", Integer.toString(steps), "--samples",
                Integer.toString(samples), "--max-new-tokens", Integer.toString(maxNewTokens), "--threads", "1"));
        if (master != null) {
            cmd.addAll(List.of("--spark", master));
        }
        Path log = Path.of(dir + ".log");
        System.err.println("[bench] " + (master == null ? "plain" : "--spark " + master) + " -> " + dir);
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        int code = p.waitFor();
        double s = (System.nanoTime() - t0) / 1e9;
        if (code != 0) {
            throw new IllegalStateException("ipg attribute failed (exit " + code + "); see " + log);
        }
        return s;
    }

    private static void delete(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /**
     * Spark's layout of a distribution, SPARK_HOME/jars: links to Spark's libraries (ipg's own jars
     * reach the executors from the driver, through one class loader).
     */
    private Path sparkHome(Path lib) throws IOException {
        Path home = work.resolve("spark-home").toAbsolutePath();
        delete(home); // links of an earlier build
        Path jars = Files.createDirectories(home.resolve("jars"));
        List<Path> all;
        try (Stream<Path> s = Files.list(lib)) {
            all = s.filter(p -> p.toString().endsWith(".jar")).toList();
        }
        for (Path p : all) {
            Path link = jars.resolve(p.getFileName());
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, p.toAbsolutePath());
        }
        return home;
    }

    /** A standalone master and {@code n} one-core workers on loopback, separate JVMs; closing stops them all. */
    private record Cluster(String master, List<Process> processes) implements AutoCloseable {

        static Cluster start(Path home, String cp, Path logs, int n) throws Exception {
            Files.createDirectories(logs);
            int port = freePort();
            Cluster c = new Cluster("spark://127.0.0.1:" + port, new ArrayList<>());
            try {
                Process m = c.launch(home, cp, logs.resolve("master.log"), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                        "--port", Integer.toString(port), "--webui-port", Integer.toString(freePort()));
                awaitPort(port, m, logs.resolve("master.log"));
                for (int w = 0; w < n; w++) {
                    c.launch(home, cp, logs.resolve("worker" + w + ".log"), "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                            "--cores", "1", "--memory", "2g", "--webui-port", Integer.toString(freePort()), "--work-dir",
                            logs.resolve("work" + w).toString(), c.master);
                }
            } catch (Exception e) {
                c.close();
                throw e;
            }
            return c;
        }

        private Process launch(Path home, String cp, Path log, String... args) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-cp",
                    cp));
            cmd.addAll(List.of(args));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("SPARK_HOME", home.toString());
            pb.environment().put("SPARK_SCALA_VERSION", "2.13");
            pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            Process p = pb.start();
            processes.add(p);
            return p;
        }

        @Override
        public void close() throws InterruptedException {
            for (Process p : processes) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
            for (Process p : processes) {
                p.waitFor(20, TimeUnit.SECONDS);
            }
        }

        static int freePort() throws IOException {
            try (ServerSocket s = new ServerSocket(0)) {
                return s.getLocalPort();
            }
        }

        static void awaitPort(int port, Process p, Path log) throws Exception {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < end) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    return;
                } catch (IOException e) {
                    if (!p.isAlive()) {
                        throw new IllegalStateException("the Spark master died; see " + log);
                    }
                    Thread.sleep(200);
                }
            }
            throw new IllegalStateException("the Spark master did not listen on " + port + "; see " + log);
        }
    }
}
