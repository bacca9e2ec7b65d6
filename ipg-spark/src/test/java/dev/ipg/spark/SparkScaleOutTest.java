package dev.ipg.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ipg.core.IpgException;
import java.net.ServerSocket;
import org.apache.spark.SparkException;
import org.junit.jupiter.api.Test;

/** The one-line errors of a Spark run, from the failures Spark reports. */
class SparkScaleOutTest {

    @Test
    void anExecutorsOwnErrorIsTheLine() {
        var cause = new IpgException("--model /m: the model directory is missing on executor host w1; every executor reads it");
        var e = new SparkException("Job aborted due to stage failure: Task 0 in stage 3.0 failed 4 times", cause);
        assertEquals(cause.getMessage(), SparkScaleOut.explain("spark://h:7077", "4", 3, e).getMessage());
        // the exception did not travel, only its text did
        var text = new SparkException("Job aborted due to stage failure: Task 0 failed 4 times, most recent failure: Lost task 0.3 "
                + "(TID 7) (w1 executor 2): dev.ipg.core.IpgException: --model /m: the model directory is missing on executor host w1\n"
                + "\tat dev.ipg.cli.Cluster.requireModel(Cluster.java:80)\n");
        assertEquals("--model /m: the model directory is missing on executor host w1",
                SparkScaleOut.explain("spark://h:7077", "4", 3, text).getMessage());
    }

    @Test
    void executorsLostRepeatedlyIsOneLine() {
        var e = new SparkException("Job aborted due to stage failure: Task 0 in stage 5.0 failed 4 times, most recent failure: Lost task "
                + "0.3 in stage 5.0 (TID 9) (127.0.0.1 executor 3): ExecutorLostFailure (executor 3 exited caused by one of the "
                + "running tasks) Reason: Command exited with code 137\nDriver stacktrace:\n\tat org.apache.spark...");
        String m = SparkScaleOut.explain("spark://h:7077", "4", 5, e).getMessage();
        assertEquals("--spark spark://h:7077: item 5 failed: its executor was lost 4 times in a row (last: ExecutorLostFailure "
                + "(executor 3 exited caused by one of the running tasks) Reason: Command exited with code 137); the finished items "
                + "are kept, rerun to resume; look at the workers' logs (memory, crashes)", m);
        assertEquals(1, m.lines().count());
    }

    @Test
    void aMasterThatDoesNotAnswerIsRefusedAtOnce() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String master = "spark://127.0.0.1:" + port;
        var e = assertThrows(IpgException.class, () -> SparkScaleOut.requireReachable(master));
        assertEquals(true, e.getMessage().startsWith("--spark " + master + ": the master is unreachable ("), e.getMessage());
        assertThrows(IpgException.class, () -> SparkScaleOut.requireReachable("spark://nohost"));
        try (ServerSocket s = new ServerSocket(0)) {
            SparkScaleOut.requireReachable("spark://127.0.0.1:" + port + ",127.0.0.1:" + s.getLocalPort()); // the second answers
        }
        SparkScaleOut.requireReachable("local[2]");
    }
}
