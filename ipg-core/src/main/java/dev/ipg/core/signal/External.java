package dev.ipg.core.signal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.ipg.core.IpgException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A reward computed by a user's process: any verifier, in any language.
 *
 * <p>Protocol. The command runs once, as {@code /bin/sh -c COMMAND}, started on first use and
 * kept running until {@link #close()}. For every sample ipg writes one JSON object on one line
 * to its standard input,
 * <pre>{"id": "...", "prompt": "...", "completion": "...", "gold": "...", "generated_tokens": 17}</pre>
 * ({@code prompt} and {@code gold} may be {@code null}) and reads one line back from its
 * standard output, {@code {"reward": 1.0}}, in the same order. The reward must be a JSON number
 * ({@code true}/{@code false} count as 1/0); if the reply also has an {@code "id"} it must be
 * the sample's. Blank output lines are ignored. A batch ({@link #rewards}) is written in full
 * before the replies are read, so a verifier may read ahead. Standard error is kept for
 * messages. On close, standard input is closed (end of file) and the process gets two seconds
 * to exit before it and its children are killed.
 *
 * <p>A crash, a reply that is not JSON or has no reward, or no reply within the timeout is an
 * {@link IpgException}; the process is then killed and this signal refuses further samples.
 */
public final class External implements Signal {

    /** Default time allowed for each reply. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final Object EOF = new Object();
    private static final int STDERR_LINES = 20;

    private final String command;
    private final Duration timeout;

    private Process process;
    private Writer stdin;
    private Thread stderrReader;
    private final BlockingQueue<Object> replies = new LinkedBlockingQueue<>();
    private final ArrayDeque<String> stderrTail = new ArrayDeque<>();
    private String failure;
    private boolean closed;

    /** A verifier running {@code command} with the {@link #DEFAULT_TIMEOUT}. */
    public External(String command) {
        this(command, DEFAULT_TIMEOUT);
    }

    /** A verifier running {@code command} that must answer each sample within {@code timeout}. */
    public External(String command, Duration timeout) {
        this.command = Objects.requireNonNull(command, "command").strip();
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        if (this.command.isEmpty()) {
            throw new IpgException("external signal: empty command");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout " + timeout);
        }
    }

    /** The shell command. */
    public String command() {
        return command;
    }

    /** Time allowed for each reply. */
    public Duration timeout() {
        return timeout;
    }

    @Override
    public String spec() {
        return "external:" + command;
    }

    @Override
    public double reward(Sample s) {
        return rewards(List.of(s))[0];
    }

    @Override
    public synchronized double[] rewards(List<Sample> samples) {
        if (closed) {
            throw new IllegalStateException("external signal `" + command + "` is closed");
        }
        if (failure != null) {
            throw new IpgException("external signal `" + command + "` failed earlier: " + failure);
        }
        if (samples.isEmpty()) {
            return new double[0];
        }
        start();
        try {
            return exchange(samples);
        } catch (IpgException e) {
            failure = e.getMessage();
            kill();
            throw e;
        }
    }

    private double[] exchange(List<Sample> samples) {
        for (var s : samples) {
            var line = JSON.createObjectNode();
            line.put("id", s.id());
            line.put("prompt", s.prompt());
            line.put("completion", s.completion());
            line.put("gold", s.gold());
            line.put("generated_tokens", s.generatedTokens());
            try {
                stdin.write(JSON.writeValueAsString(line));
                stdin.write('\n');
            } catch (IOException e) {
                throw died("while receiving sample " + s.id());
            }
        }
        try {
            stdin.flush();
        } catch (IOException e) {
            throw died("while receiving samples");
        }
        var rewards = new double[samples.size()];
        for (int i = 0; i < rewards.length; i++) {
            rewards[i] = readReward(samples.get(i));
        }
        return rewards;
    }

    private double readReward(Sample s) {
        Object reply;
        try {
            reply = replies.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IpgException("external signal `" + command + "`: interrupted while waiting for sample " + s.id());
        }
        if (reply == null) {
            throw new IpgException("external signal `" + command + "` did not reply within "
                    + describe(timeout) + " for sample " + s.id());
        }
        if (reply == EOF) {
            throw died("before replying to sample " + s.id());
        }
        String line = (String) reply;
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            node = null;
        }
        if (node == null || !node.isObject()) {
            throw new IpgException("external signal `" + command + "` replied to sample " + s.id()
                    + " with a line that is not a JSON object: " + excerpt(line));
        }
        var id = node.get("id");
        if (id != null && !id.isNull() && s.id() != null && !id.asText().equals(s.id())) {
            throw new IpgException("external signal `" + command + "` replied for id " + excerpt(id.asText())
                    + " where sample " + s.id() + " was expected (replies must come in order)");
        }
        var reward = node.get("reward");
        if (reward != null && reward.isNumber()) {
            double r = reward.asDouble();
            if (Double.isFinite(r)) {
                return r;
            }
        }
        if (reward != null && reward.isBoolean()) {
            return reward.asBoolean() ? 1 : 0;
        }
        throw new IpgException("external signal `" + command + "` reply for sample " + s.id()
                + " has no numeric \"reward\": " + excerpt(line));
    }

    private void start() {
        if (process != null) {
            return;
        }
        try {
            process = new ProcessBuilder("/bin/sh", "-c", command).start();
        } catch (IOException e) {
            throw new IpgException("external signal `" + command + "`: cannot start /bin/sh: " + e.getMessage());
        }
        stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread.ofPlatform().daemon().name("ipg-external-stdout").start(() -> pump(process.getInputStream()));
        stderrReader = Thread.ofPlatform().daemon().name("ipg-external-stderr")
                .start(() -> drain(process.getErrorStream()));
    }

    private void pump(InputStream out) {
        try (var reader = new BufferedReader(new InputStreamReader(out, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.isBlank()) {
                    replies.add(line);
                }
            }
        } catch (IOException e) {
            // the process went away; EOF below says so
        }
        replies.add(EOF);
    }

    private void drain(InputStream err) {
        try (var reader = new BufferedReader(new InputStreamReader(err, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                synchronized (stderrTail) {
                    if (!line.isBlank()) {
                        stderrTail.addLast(line);
                    }
                    if (stderrTail.size() > STDERR_LINES) {
                        stderrTail.removeFirst();
                    }
                }
            }
        } catch (IOException e) {
            // nothing more to keep
        }
    }

    /** The error for a process that stopped: its exit code and last line of standard error. */
    private IpgException died(String when) {
        String code;
        try {
            code = process.waitFor(2, TimeUnit.SECONDS) ? "exited with code " + process.exitValue()
                    : "closed its output";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            code = "stopped";
        }
        if (!process.isAlive()) {
            try {
                stderrReader.join(1000); // its last lines may still be in flight
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        String last;
        synchronized (stderrTail) {
            last = stderrTail.isEmpty() ? "" : ": " + excerpt(stderrTail.peekLast());
        }
        return new IpgException("external signal `" + command + "` " + code + " " + when + last);
    }

    private void kill() {
        if (process == null) {
            return;
        }
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /** Ends the process: end of file on its input, two seconds to exit, then killed. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (process == null) {
            return;
        }
        try {
            stdin.close();
        } catch (IOException e) {
            // already gone
        }
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                kill();
                process.waitFor(2, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill();
        }
    }

    private static String excerpt(String s) {
        String one = s.replaceAll("\\s+", " ").strip();
        return one.length() <= 200 ? one : one.substring(0, 200) + "...";
    }

    private static String describe(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}
