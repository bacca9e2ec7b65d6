package dev.ipg.spark;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Spark standalone cluster on loopback for the tests: a master and workers of one core each,
 * separate JVMs (Spark's jars are the test's class path, laid out as a Spark home), each worker's
 * executors working in the worker's own directory. The driver is the test JVM (its system
 * properties point Spark at loopback). Closing it stops every process it started.
 */
final class LocalCluster implements AutoCloseable {

    private static final List<String> PROPERTIES = List.of("spark.driver.host", "spark.driver.bindAddress", "spark.executor.memory");

    final String master;
    final List<Process> workers = new ArrayList<>();
    private final Path dir;
    private final List<Process> started = new ArrayList<>();

    private LocalCluster(Path dir, String master) {
        this.dir = dir;
        this.master = master;
    }

    /** Starts a master and {@code workers} workers of one core (logs and work directories in {@code dir}). */
    static LocalCluster start(Path dir, int workers) throws Exception {
        int port = freePort();
        LocalCluster c = new LocalCluster(dir, "spark://127.0.0.1:" + port);
        try {
            Path home = c.sparkHome();
            Process m = c.start("master", home, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                    Integer.toString(port), "--webui-port", Integer.toString(freePort()));
            awaitPort(port, m, dir.resolve("master.log"));
            for (int w = 0; w < workers; w++) {
                c.workers.add(c.start("worker" + w, home, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1",
                        "--memory", "1g", "--webui-port", Integer.toString(freePort()), "--work-dir", dir.resolve("work" + w).toString(),
                        c.master));
            }
        } catch (Exception | AssertionError e) {
            c.close();
            throw e;
        }
        System.setProperty("spark.driver.host", "127.0.0.1");
        System.setProperty("spark.driver.bindAddress", "127.0.0.1");
        System.setProperty("spark.executor.memory", "512m");
        return c;
    }

    /** Kills worker {@code w} and its executors. */
    void kill(int w) {
        Process p = workers.get(w);
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    @Override
    public void close() throws InterruptedException {
        PROPERTIES.forEach(System::clearProperty);
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
    private Path sparkHome() throws IOException {
        Path home = dir.resolve("spark-home");
        Path jars = Files.createDirectories(home.resolve("jars"));
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(e);
            if (e.endsWith(".jar") && Files.isRegularFile(p) && !Files.exists(jars.resolve(p.getFileName()))) {
                Files.createSymbolicLink(jars.resolve(p.getFileName()), p.toAbsolutePath());
            }
        }
        return home;
    }

    private Process start(String name, Path home, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-cp",
                System.getProperty("java.class.path")));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_HOME", home.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        // how a worker finds the JDK for its executors
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        started.add(p);
        return p;
    }

    private static void awaitPort(int port, Process p, Path log) throws Exception {
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
}
