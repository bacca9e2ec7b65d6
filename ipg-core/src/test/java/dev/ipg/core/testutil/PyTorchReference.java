package dev.ipg.core.testutil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.tensor.Matrix;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Runs the independent PyTorch reference, {@code ipg-core/src/test/python/hf_reference.py}, a
 * float64 re-implementation of the Hugging Face forward pass (Llama, Mistral, Qwen2, Qwen3,
 * GPT-2), and returns the safetensors file it wrote.
 *
 * <p>The output file holds {@code logits} (T, V), one (T, d) tensor per requested hook site
 * (TransformerLens names such as {@code blocks.1.mlp.hook_post}) and, in gradient mode,
 * {@code loss} (1), {@code grad} (T, d) and {@code scale_grad} (d). Tensors are F32 (converted
 * from float64 results) unless {@link Request#float64Output()} asks for F64, which the engine's
 * matrix reader does not read.
 *
 * <pre>{@code
 * Path out = PyTorchReference.forModel(dir)
 *         .tokens(1, 2, 3, 4)
 *         .sites("blocks.0.hook_resid_post", "blocks.1.attn.hook_z")
 *         .gradient("blocks.1.mlp.hook_post", 1)
 *         .run(tmp.resolve("ref.safetensors"));
 * }</pre>
 *
 * <p>Python is the first of {@code $IPG_PYTHON}, {@code /usr/bin/python3} and {@code python3} on
 * the {@code PATH} that can {@code import torch, numpy}. When none can, every call throws an
 * {@link AssertionError} saying so: tests that need the reference fail, they are never skipped.
 */
public final class PyTorchReference {

    /** Path of the reference script relative to the repository root. */
    public static final String SCRIPT = "ipg-core/src/test/python/hf_reference.py";
    /** Path of the reference's own checks relative to the repository root. */
    public static final String SELF_TEST = "ipg-core/src/test/python/hf_reference_selftest.py";

    private static final long TIMEOUT_SECONDS = 600;

    private PyTorchReference() {}

    /** Starts a request for the checkpoint directory {@code modelDir} (config.json + safetensors). */
    public static Request forModel(Path modelDir) {
        return new Request(modelDir, List.of(), List.of(), null, 0, Map.of(), false, false);
    }

    /**
     * One invocation of the reference. Immutable; each method returns a modified copy.
     *
     * @param modelDir       checkpoint directory
     * @param tokens         token ids, T of them
     * @param sites          hook sites whose activations are written
     * @param gradSite       site differentiated in gradient mode, or null
     * @param gradFrom       first scored position K (1 <= K < T) of
     *                       L = sum_{t=K}^{T-1} log softmax(logits[t-1])[x_t]
     * @param scales         site -> safetensors file holding a (d) tensor {@code scale}
     * @param writeFloat64     write F64 instead of F32
     * @param computeInFloat32 compute in float32 instead of float64
     */
    public record Request(Path modelDir, List<Integer> tokens, List<String> sites, String gradSite,
                          int gradFrom, Map<String, Path> scales, boolean writeFloat64,
                          boolean computeInFloat32) {

        public Request {
            tokens = List.copyOf(tokens);
            sites = List.copyOf(sites);
            scales = Collections.unmodifiableMap(new LinkedHashMap<>(scales));
        }

        /** The token ids to run. */
        public Request tokens(int... ids) {
            return new Request(modelDir, Arrays.stream(ids).boxed().toList(), sites, gradSite, gradFrom,
                    scales, writeFloat64, computeInFloat32);
        }

        /** Hook sites to write, e.g. {@code blocks.0.hook_resid_post}. */
        public Request sites(String... names) {
            return new Request(modelDir, tokens, List.of(names), gradSite, gradFrom, scales, writeFloat64,
                    computeInFloat32);
        }

        /** Gradient mode: dL/dh at {@code site} for the log-likelihood of tokens {@code from}..T-1. */
        public Request gradient(String site, int from) {
            return new Request(modelDir, tokens, sites, site, from, scales, writeFloat64, computeInFloat32);
        }

        /** Multiplies {@code site} by the (d) tensor {@code scale} of {@code scaleFile} at every position. */
        public Request scale(String site, Path scaleFile) {
            var copy = new LinkedHashMap<>(scales);
            copy.put(site, scaleFile);
            return new Request(modelDir, tokens, sites, gradSite, gradFrom, copy, writeFloat64,
                    computeInFloat32);
        }

        /** Writes F64 tensors instead of F32. */
        public Request float64Output() {
            return new Request(modelDir, tokens, sites, gradSite, gradFrom, scales, true, computeInFloat32);
        }

        /** Computes in float32 instead of float64 (to measure what float32 rounding alone costs). */
        public Request float32Compute() {
            return new Request(modelDir, tokens, sites, gradSite, gradFrom, scales, writeFloat64, true);
        }

        /** The script's command-line arguments for writing to {@code out}. */
        public List<String> arguments(Path out) {
            if (tokens.isEmpty()) {
                throw new IllegalStateException("no tokens given: call tokens(...) first");
            }
            var args = new ArrayList<String>();
            args.addAll(List.of("--model", modelDir.toAbsolutePath().toString()));
            args.addAll(List.of("--tokens",
                    tokens.stream().map(String::valueOf).collect(Collectors.joining(","))));
            args.addAll(List.of("--out", out.toAbsolutePath().toString()));
            if (!sites.isEmpty()) {
                args.addAll(List.of("--sites", String.join(",", sites)));
            }
            if (gradSite != null) {
                args.addAll(List.of("--grad-site", gradSite, "--from", String.valueOf(gradFrom)));
            }
            scales.forEach((site, file) -> args.addAll(List.of("--scale", site + ":" + file.toAbsolutePath())));
            if (writeFloat64) {
                args.addAll(List.of("--out-dtype", "f64"));
            }
            if (computeInFloat32) {
                args.addAll(List.of("--dtype", "float32"));
            }
            return args;
        }

        /** Runs the reference, writing {@code out}; returns {@code out}. */
        public Path run(Path out) {
            runScript(script(), arguments(out));
            if (!Files.isRegularFile(out)) {
                throw new AssertionError("the PyTorch reference exited 0 but did not write " + out);
            }
            return out;
        }
    }

    /** The reference script, {@value #SCRIPT} under the repository root. */
    public static Path script() {
        return existing(repositoryRoot().resolve(SCRIPT));
    }

    /** The reference's own checks, {@value #SELF_TEST} under the repository root. */
    public static Path selfTestScript() {
        return existing(repositoryRoot().resolve(SELF_TEST));
    }

    /**
     * The repository root: the nearest directory at or above the working directory that holds
     * {@code mvnw}.
     */
    public static Path repositoryRoot() {
        var start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (var dir = start; dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("mvnw"))) {
                return dir;
            }
        }
        throw new AssertionError("no directory holding mvnw at or above " + start
                + ": run the tests from inside the ipg repository");
    }

    /** The Python interpreter with torch and numpy (see the class comment for the search order). */
    public static Path python() {
        return PythonHolder.PYTHON.orElseThrow(() -> new AssertionError(PythonHolder.FAILURE));
    }

    /**
     * Runs {@code script} with {@code args} under {@link #python()} and returns its combined
     * stdout and stderr; throws {@link AssertionError} with that output if it exits non-zero or
     * runs longer than ten minutes.
     */
    public static String runScript(Path script, List<String> args) {
        var command = new ArrayList<String>();
        command.add(python().toString());
        command.add(script.toString());
        command.addAll(args);
        Path log = null;
        try {
            log = Files.createTempFile("ipg-pytorch-reference", ".log");
            var process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("the PyTorch reference ran longer than " + TIMEOUT_SECONDS
                        + " s: " + String.join(" ", command));
            }
            var output = Files.readString(log, StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new AssertionError("the PyTorch reference failed (exit " + process.exitValue() + "): "
                        + String.join(" ", command) + "\n" + output);
            }
            return output;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running the PyTorch reference", e);
        } finally {
            if (log != null) {
                try {
                    Files.deleteIfExists(log);
                } catch (IOException ignored) {
                    // a leftover log file in the temp directory is harmless
                }
            }
        }
    }

    private static Path existing(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new AssertionError("missing " + file);
        }
        return file;
    }

    /** Finds the interpreter once, on first use (the JVM's lazy class initialization). */
    private static final class PythonHolder {
        static final List<Path> CANDIDATES = candidates();
        static final Optional<Path> PYTHON = CANDIDATES.stream().filter(PythonHolder::hasTorch).findFirst();
        static final String FAILURE = "no Python with torch and numpy found (tried "
                + CANDIDATES.stream().map(Path::toString).collect(Collectors.joining(", "))
                + "): the model tests compare against a PyTorch reference and need it; install Debian's"
                + " python3-torch and python3-numpy (apt-get install python3-torch python3-numpy)"
                + " or point IPG_PYTHON at a python3 that can import torch";

        private static List<Path> candidates() {
            var candidates = new ArrayList<Path>();
            Optional.ofNullable(System.getenv("IPG_PYTHON")).filter(s -> !s.isBlank())
                    .ifPresent(s -> candidates.add(Path.of(s)));
            candidates.add(Path.of("/usr/bin/python3"));
            onPath("python3").ifPresent(candidates::add);
            return List.copyOf(candidates);
        }

        private static Optional<Path> onPath(String name) {
            var path = System.getenv("PATH");
            if (path == null) {
                return Optional.empty();
            }
            return Arrays.stream(path.split(File.pathSeparator))
                    .filter(dir -> !dir.isEmpty())
                    .map(dir -> Path.of(dir, name))
                    .filter(Files::isExecutable)
                    .findFirst();
        }

        private static boolean hasTorch(Path python) {
            if (!Files.isExecutable(python)) {
                return false;
            }
            try {
                var process = new ProcessBuilder(python.toString(), "-c", "import torch, numpy")
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .start();
                if (!process.waitFor(120, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    return false;
                }
                return process.exitValue() == 0;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /**
     * Asserts that {@code actual} has the size of the reference tensor {@code expected} and
     * differs from it by at most {@code tol} in every element (the worst one is named).
     */
    public static void assertMaxAbsDiff(String what, Matrix expected, float[] actual, float tol) {
        assertEquals(expected.size(), actual.length, what + ": size");
        float worst = 0;
        long at = -1;
        for (long i = 0; i < actual.length; i++) {
            float d = Math.abs(expected.getFlat(i) - actual[(int) i]);
            if (!(d <= worst)) {
                worst = d;
                at = i;
            }
        }
        assertTrue(worst <= tol, what + ": max |diff| " + worst + " at flat index " + at + " (row " + at / expected.cols() + ")");
    }

    /**
     * Asserts that the reference tensor {@code expected} is not all zero and that
     * ||actual - expected|| / ||expected|| <= {@code tol}.
     */
    public static void assertRelativeError(String what, Matrix expected, float[] actual, double tol) {
        double rel = relativeError(what, expected, actual);
        assertTrue(rel <= tol, what + ": relative error " + rel);
    }

    /** {@code ||actual - expected|| / ||expected||}; fails when the sizes differ or the reference is all zero. */
    public static double relativeError(String what, Matrix expected, float[] actual) {
        assertEquals(expected.size(), actual.length, what + ": size");
        double num = 0;
        double den = 0;
        for (int i = 0; i < actual.length; i++) {
            double e = expected.getFlat(i);
            num += (actual[i] - e) * (actual[i] - e);
            den += e * e;
        }
        assertTrue(den > 0, what + ": reference gradient is all zero");
        return Math.sqrt(num / den);
    }
}
