package dev.ipg.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Spark standalone cluster on loopback: a master and two workers of one core each, separate
 * JVMs started by the test (Spark's jars are this test's class path, laid out as a Spark home), and
 * the command line as the driver. One worker is killed (with its executor) while the run is under
 * way: its items run again on the other, and the run directory is bit for bit the single-machine one.
 * Every process the test starts is stopped by it.
 */
class StandaloneClusterTest {

    @TempDir
    Path tmp;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopAll() throws InterruptedException {
        for (String k : List.of("spark.driver.host", "spark.driver.bindAddress", "spark.executor.memory")) {
            System.clearProperty(k);
        }
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : started) {
            p.waitFor(20, TimeUnit.SECONDS);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Spark's layout of a distribution: SPARK_HOME/jars, here links to the jars of this class path. */
    Path sparkHome() throws IOException {
        Path home = tmp.resolve("spark-home");
        Path jars = Files.createDirectories(home.resolve("jars"));
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(e);
            if (e.endsWith(".jar") && Files.isRegularFile(p) && !Files.exists(jars.resolve(p.getFileName()))) {
                Files.createSymbolicLink(jars.resolve(p.getFileName()), p.toAbsolutePath());
            }
        }
        return home;
    }

    Process start(String name, Path home, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-cp",
                System.getProperty("java.class.path")));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_HOME", home.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        // how a worker finds the JDK for its executors
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        started.add(p);
        return p;
    }

    static void awaitPort(int port, Process p, Path log) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < end) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                if (!p.isAlive()) {
                    throw new AssertionError("the master died:\n" + Files.readString(log));
                }
                Thread.sleep(200);
            }
        }
        throw new AssertionError("the master did not listen on " + port + ":\n" + Files.readString(log));
    }

    static long donePrompts(Path run) throws IOException {
        Path prompts = run.resolve("prompts");
        if (!Files.isDirectory(prompts)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(prompts)) {
            return s.filter(p -> p.getFileName().toString().matches("\\d{5}\\.json")).count();
        }
    }

    @Test
    void aWorkerKilledMidRunLosesNothingAndChangesNothing() throws Exception {
        Path home = sparkHome();
        int port = freePort();
        String master = "spark://127.0.0.1:" + port;
        Process m = start("master", home, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                Integer.toString(port), "--webui-port", Integer.toString(freePort()));
        awaitPort(port, m, tmp.resolve("master.log"));
        Process[] workers = new Process[2];
        for (int w = 0; w < 2; w++) {
            workers[w] = start("worker" + w, home, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1",
                    "--memory", "1g", "--webui-port", Integer.toString(freePort()), "--work-dir", tmp.resolve("work" + w).toString(),
                    master);
        }
        System.setProperty("spark.driver.host", "127.0.0.1");
        System.setProperty("spark.driver.bindAddress", "127.0.0.1");
        System.setProperty("spark.executor.memory", "512m");

        Path plain = tmp.resolve("plain");
        Path cluster = tmp.resolve("cluster");
        String[] small = {"--limit", "8", "--site", "blocks.1.hook_resid_post", "--samples", "2", "--steps", "2", "--max-new-tokens", "30"};
        long t0 = System.nanoTime();
        SparkRunTest.ok(attribute(plain, small));
        System.err.printf("single machine: %.1f s%n", (System.nanoTime() - t0) / 1e9);
        long t1 = System.nanoTime();
        List<String> withCluster = attribute(cluster, small);
        withCluster.addAll(List.of("--spark", master));
        CompletableFuture<SparkRunTest.Run> run = CompletableFuture.supplyAsync(() -> SparkRunTest.ipg(withCluster));

        // kill a worker and its executor once the run is under way
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
        while (donePrompts(cluster) < 2 && !run.isDone() && System.nanoTime() < end) {
            Thread.sleep(100);
        }
        assertTrue(!run.isDone() && donePrompts(cluster) < 8, "the run ended before a worker could be killed: "
                + (run.isDone() ? run.get().err() : donePrompts(cluster) + " prompts"));
        workers[0].descendants().forEach(ProcessHandle::destroyForcibly);
        workers[0].destroyForcibly();
        long killedAt = donePrompts(cluster);

        System.err.printf("worker killed after %.1f s with %d prompts done%n", (System.nanoTime() - t1) / 1e9, killedAt);
        SparkRunTest.Run r = run.get(240, TimeUnit.SECONDS);
        System.err.printf("cluster run: %.1f s%n%s", (System.nanoTime() - t1) / 1e9, r.err());
        assertEquals(0, r.code(), () -> r.err() + r.out());
        assertTrue(killedAt < 8, "killed after " + killedAt);
        assertTrue(r.err().contains("lost"), "the loss of the executor is reported:\n" + r.err());
        SparkRunTest.assertSameRun(plain, cluster);
    }

    /** The attribution of SparkRunTest with the given options replacing its own. */
    static List<String> attribute(Path out, String... options) {
        List<String> base = SparkRunTest.attribute(out);
        List<String> a = new ArrayList<>();
        for (int i = 0; i < base.size(); i++) {
            String arg = base.get(i);
            boolean replaced = false;
            for (int k = 0; k < options.length; k += 2) {
                replaced |= options[k].equals(arg);
            }
            if (replaced) {
                i++;
                continue;
            }
            a.add(arg);
        }
        a.addAll(List.of(options));
        return a;
    }
}
