package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.Bf16Compute;
import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** Options shared by every command that loads a model. */
final class ModelOptions {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR",
            description = "Hugging Face model directory (config.json, *.safetensors, tokenizer files).")
    Path model;

    @Option(names = "--threads", paramLabel = "N",
            description = "Worker threads (default: all available processors). Results do not depend on it.")
    Integer threads;

    @Option(names = "--ignore-unused-tensors",
            description = "Load the model even if the checkpoint holds tensors that the model config.json describes "
                    + "does not use (by default an error: config.json and the weights disagree).")
    boolean ignoreUnusedTensors;

    @Option(names = "--bf16-compute", paramLabel = "java|native|native-avx512|native-amx", converter = Bf16Choice.class,
            description = "Products with BF16 weights: java (default; weights widened exactly to float32, float32 products and sums), "
                    + "or the optional native library, which rounds the activations to bf16: native (AMX where the CPU has it, else "
                    + "AVX512_BF16), native-avx512, native-amx. A native choice that cannot run here says so and uses java "
                    + "(default: the system property " + Bf16Compute.PROPERTY + ", else java).")
    Bf16Compute bf16Compute;

    /** {@code --bf16-compute} spellings, as {@link Bf16Compute#parse} reads them. */
    static final class Bf16Choice implements CommandLine.ITypeConverter<Bf16Compute> {
        @Override
        public Bf16Compute convert(String value) {
            try {
                return Bf16Compute.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** The kernels: {@code --bf16-compute} when given, else as the system property says. */
    Kernels kernels() {
        return bf16Compute == null ? KernelsProvider.lookup() : KernelsProvider.lookup(bf16Compute);
    }

    Path dir() {
        if (!Files.isDirectory(model)) {
            throw new IpgException(model + " is not a directory");
        }
        return model;
    }

    Parallel pool() {
        return Parallel.of(threads(threads));
    }

    /** Refuses a --threads value out of range without starting a pool (commands that run serially). */
    void checkThreads() {
        threads(threads);
    }

    /** The most worker threads accepted, as a multiple of the available processors. */
    static final int THREADS_PER_PROCESSOR = 8;

    /** The thread count for {@code --threads} ({@code null}: all available processors), refused outside 1..8 x processors. */
    static int threads(Integer requested) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (requested == null) {
            return cores;
        }
        int max = THREADS_PER_PROCESSOR * cores;
        if (requested < 1 || requested > max) {
            throw new IpgException("--threads: must be between 1 and " + max + " (" + THREADS_PER_PROCESSOR + " x the " + cores
                    + " available processors), got " + requested);
        }
        return requested;
    }

    /** The model, which must be a causal language model (the commands that generate or score tokens). */
    Transformer load(Parallel pool) {
        ModelConfig c = ModelConfig.load(dir());
        if (c.isClassifier()) {
            throw new IpgException(model + ": " + c.architecture() + " is a sequence-classification (reward) model, not a causal "
                    + "language model; it cannot generate (use it as --signal reward-model:" + model + ")");
        }
        return loadAny(pool);
    }

    /** The model, whatever its head. */
    Transformer loadAny(Parallel pool) {
        return Transformer.load(dir(), kernels(), pool, new Transformer.LoadOptions(ignoreUnusedTensors));
    }
}
