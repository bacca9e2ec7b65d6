package dev.ipg.spark;

import dev.ipg.core.IpgException;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.run.ScaleOut;
import java.io.IOException;
import java.io.Serializable;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;

/**
 * {@link ScaleOut} on Apache Spark: every item is a Spark job of one task, submitted all at once
 * (the scheduler runs them as task slots free up, retries a failed task up to
 * {@code spark.task.maxFailures} times, on another executor when one is lost); each result comes
 * back to the driver, which hands it on as soon as it arrives.
 *
 * <p>{@code local[N]} runs an embedded engine in this JVM. For a cluster master the classes of ipg
 * are shipped to the executors unless {@code spark-submit} already did ({@code spark.jars} set):
 * a jar through {@code spark.jars}, a class directory (a build tree on the same machine) through
 * {@code spark.executor.extraClassPath}.
 */
public final class SparkScaleOut implements ScaleOut {

    /** The provider found by {@link java.util.ServiceLoader}. */
    public static final class Provider implements ScaleOut.Provider {
        @Override
        public String name() {
            return "Apache Spark " + org.apache.spark.package$.MODULE$.SPARK_VERSION();
        }

        @Override
        public ScaleOut open(String master, String appName, ProgressListener progress) {
            return new SparkScaleOut(master, appName, progress, new SparkConf(true));
        }
    }

    /** Seconds to reach a standalone master before giving up. */
    static final int CONNECT_SECONDS = 5;

    private final String master;
    private final ProgressListener progress;
    private final JavaSparkContext sc;

    /**
     * Connects to {@code master} with {@code conf} (which may carry more {@code spark.*} settings).
     *
     * @throws IpgException when a standalone master does not answer, or Spark does not start
     */
    public SparkScaleOut(String master, String appName, ProgressListener progress, SparkConf conf) {
        this.master = master;
        this.progress = progress;
        requireReachable(master);
        conf.setMaster(master).setAppName(appName);
        conf.setIfMissing("spark.ui.enabled", "false");
        conf.setIfMissing("spark.task.maxFailures", "4");
        // the engine's JVM needs (Spark adds the module options of its launcher itself)
        conf.setIfMissing("spark.executor.extraJavaOptions", "-Xss8m --sun-misc-unsafe-memory-access=allow");
        if (!master.startsWith("local")) {
            shipClasses(conf);
        }
        try {
            this.sc = new JavaSparkContext(conf);
        } catch (RuntimeException e) {
            throw new IpgException("--spark " + master + ": Spark did not start: " + firstLine(e));
        }
        sc.setLogLevel("ERROR");
        sc.sc().addSparkListener(new SparkListener() {
            @Override
            public void onExecutorAdded(SparkListenerExecutorAdded e) {
                progress.message("executor " + e.executorId() + " on " + e.executorInfo().executorHost() + " joined ("
                        + e.executorInfo().totalCores() + " cores)");
            }

            @Override
            public void onExecutorRemoved(SparkListenerExecutorRemoved e) {
                progress.message("executor " + e.executorId() + " lost (" + firstLine(e.reason())
                        + "); its unfinished items run again on another executor");
            }
        });
    }

    /**
     * A standalone master (any of a list {@code spark://H1:P1,H2:P2}) must answer on its port; Spark
     * itself would retry for a minute and more before giving up.
     */
    static void requireReachable(String master) {
        if (!master.startsWith("spark://")) {
            return;
        }
        String last = "";
        for (String hostPort : master.substring("spark://".length()).split(",")) {
            int colon = hostPort.lastIndexOf(':');
            int port;
            try {
                port = colon < 1 ? -1 : Integer.parseInt(hostPort.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 1 || port > 65535) {
                throw new IpgException("--spark " + master + ": not a master URL (spark://HOST:PORT)");
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(hostPort.substring(0, colon), port), CONNECT_SECONDS * 1000);
                return;
            } catch (IOException e) {
                last = e.getMessage();
            }
        }
        throw new IpgException("--spark " + master + ": the master is unreachable (" + last
                + "); is it running, and is the address the one its log announces?");
    }

    private static void shipClasses(SparkConf conf) {
        if (conf.contains("spark.jars")) {
            return; // spark-submit shipped the application
        }
        Set<String> jars = new LinkedHashSet<>();
        Set<String> dirs = new LinkedHashSet<>();
        for (String name : List.of("dev.ipg.core.run.ScaleOut", "dev.ipg.spark.SparkScaleOut", "dev.ipg.cli.Main")) {
            try {
                var src = Class.forName(name).getProtectionDomain().getCodeSource();
                if (src == null) {
                    continue;
                }
                Path p = Path.of(src.getLocation().toURI());
                (Files.isDirectory(p) ? dirs : jars).add(p.toString());
            } catch (ClassNotFoundException | URISyntaxException e) {
                // not part of this program
            }
        }
        if (!jars.isEmpty()) {
            conf.set("spark.jars", String.join(",", jars));
        }
        if (!dirs.isEmpty()) {
            String old = conf.get("spark.executor.extraClassPath", "");
            conf.set("spark.executor.extraClassPath", (old.isEmpty() ? "" : old + java.io.File.pathSeparator)
                    + String.join(java.io.File.pathSeparator, dirs));
        }
    }

    @Override
    public <R extends Serializable> void run(List<Integer> items, Task<R> task, Consumer<R> done) {
        List<JavaFutureAction<List<R>>> jobs = new ArrayList<>();
        try {
            for (int item : items) {
                sc.setJobDescription("ipg item " + item);
                jobs.add(sc.parallelize(List.of(item), 1).map(i -> compute(task, i)).collectAsync());
            }
            boolean[] taken = new boolean[jobs.size()];
            int left = jobs.size();
            while (left > 0) {
                boolean progressed = false;
                for (int k = 0; k < jobs.size(); k++) {
                    if (taken[k] || !jobs.get(k).isDone()) {
                        continue;
                    }
                    List<R> r;
                    try {
                        r = jobs.get(k).get();
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw explain(master, sc.getConf().get("spark.task.maxFailures", "4"), items.get(k), e.getCause() == null ? e : e.getCause());
                    }
                    taken[k] = true;
                    left--;
                    progressed = true;
                    for (R x : r) {
                        done.accept(x);
                    }
                }
                if (!progressed) {
                    Thread.sleep(50);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IpgException("--spark " + master + ": interrupted");
        } finally {
            for (JavaFutureAction<List<R>> j : jobs) {
                if (!j.isDone()) {
                    j.cancel(true);
                }
            }
        }
    }

    /** Computes an item on an executor; an error of ipg raised on a cluster's executor says which executor it was. */
    static <R extends Serializable> R compute(Task<R> task, int item) throws Exception {
        try {
            return task.compute(item);
        } catch (IpgException e) {
            SparkEnv env = SparkEnv.get();
            if (env == null || "driver".equals(env.executorId())) { // an embedded engine: the driver's own executor
                throw e;
            }
            throw new IpgException("executor " + env.executorId() + " on " + env.blockManager().blockManagerId().host() + ": "
                    + e.getMessage());
        }
    }

    /** One clear line for a failed item: the executor's own error, executors lost repeatedly, or Spark's reason. */
    static IpgException explain(String master, String maxFailures, int item, Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof IpgException ie) {
                return new IpgException(ie.getMessage());
            }
        }
        String msg = String.valueOf(e.getMessage());
        String marker = IpgException.class.getName() + ": ";
        int at = msg.indexOf(marker);
        if (at >= 0) {
            return new IpgException(firstLine(msg.substring(at + marker.length())));
        }
        if (msg.contains("ExecutorLostFailure")) {
            String reason = msg.substring(msg.indexOf("ExecutorLostFailure"));
            return new IpgException(String.format(Locale.ROOT, "--spark %s: item %d failed: its executor was lost %s times in a row "
                    + "(last: %s); the finished items are kept, rerun to resume; look at the workers' logs (memory, crashes)", master,
                    item, maxFailures, firstLine(reason)));
        }
        if (msg.contains("SparkContext was shut down") || msg.contains("cancelled")) {
            return new IpgException("--spark " + master + ": the connection to the cluster ended before item " + item
                    + " was computed (" + firstLine(msg) + "); the finished items are kept, rerun to resume");
        }
        return new IpgException("--spark " + master + ": item " + item + " failed: " + firstLine(msg));
    }

    static String firstLine(Object o) {
        String s = o instanceof Throwable t ? t.getClass().getSimpleName() + ": " + t.getMessage() : String.valueOf(o);
        return s.lines().findFirst().orElse(s).strip();
    }

    @Override
    public void close() {
        sc.stop();
    }
}
