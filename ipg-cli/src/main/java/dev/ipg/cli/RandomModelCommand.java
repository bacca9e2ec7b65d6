package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ipg random-model}: a random-weight checkpoint in Hugging Face layout. */
@Command(name = "random-model", mixinStandardHelpOptions = true,
        description = "Write a random-weight checkpoint of any supported architecture in Hugging Face layout "
                + "(for trying the pipeline, tests and benchmarks; its text is gibberish).")
final class RandomModelCommand implements Callable<Integer> {

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "New model directory.")
    Path out;

    @Option(names = "--family", defaultValue = "qwen3", paramLabel = "NAME",
            description = "llama, mistral, qwen2, qwen3 or gpt2 (default: ${DEFAULT-VALUE}).")
    String family;

    @Option(names = "--hidden", paramLabel = "N", defaultValue = "64", description = "Hidden size (default: ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--layers", paramLabel = "N", defaultValue = "2", description = "Blocks (default: ${DEFAULT-VALUE}).")
    int layers;

    @Option(names = "--heads", paramLabel = "N", defaultValue = "4", description = "Query heads (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = "--kv-heads", paramLabel = "N", defaultValue = "2", description = "Key/value heads (default: ${DEFAULT-VALUE}; gpt2 uses --heads).")
    int kvHeads;

    @Option(names = "--head-dim", paramLabel = "N", defaultValue = "0", description = "Head width; 0 = hidden / heads (default: ${DEFAULT-VALUE}).")
    int headDim;

    @Option(names = "--intermediate", paramLabel = "N", defaultValue = "0", description = "MLP width; 0 = 3 x hidden, 4 x hidden for gpt2.")
    int intermediate;

    @Option(names = "--vocab", paramLabel = "N", defaultValue = "0",
            description = "Vocabulary size; 0 = the tokenizer's, rounded up to a multiple of 64 (or 256 without one).")
    int vocab;

    @Option(names = "--context", paramLabel = "N", defaultValue = "2048", description = "Context length (default: ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "F32", description = "F32, BF16 or F16 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--tied", paramLabel = "true|false", defaultValue = "true", arity = "1", description = "Tie the LM head to the embedding (default: ${DEFAULT-VALUE}).")
    boolean tied;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "Copy tokenizer.json and tokenizer_config.json from DIR (needed for text prompts).")
    Path tokenizer;

    @Option(names = "--force", description = "Replace --out if it exists.")
    boolean force;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        Family fam;
        try {
            fam = Family.valueOf(family.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IpgException("unknown --family '" + family + "': use llama, mistral, qwen2, qwen3 or gpt2");
        }
        DType dt;
        try {
            dt = DType.valueOf(dtype.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IpgException("unknown --dtype '" + dtype + "': use F32, BF16 or F16");
        }
        if (Files.exists(out) && (!Files.isDirectory(out) || hasEntries(out)) && !force) {
            throw new IpgException(out + " already exists and is not an empty directory (--force replaces it)");
        }
        int v = vocab;
        if (tokenizer != null) {
            for (String f : new String[] {"tokenizer.json", "tokenizer_config.json"}) {
                if (!Files.isRegularFile(tokenizer.resolve(f))) {
                    throw new IpgException("--tokenizer " + tokenizer + " has no " + f);
                }
            }
            if (v == 0) {
                try (Tokenizer tok = Tokenizer.load(tokenizer)) {
                    v = (tok.vocabSize() + 63) / 64 * 64;
                }
            }
        } else if (v == 0) {
            v = 256;
        }
        int kv = fam == Family.GPT2 ? heads : kvHeads;
        int ff = intermediate > 0 ? intermediate : (fam == Family.GPT2 ? 4 : 3) * hidden;
        if (hidden <= 0 || layers <= 0 || heads <= 0 || kv <= 0 || heads % kv != 0 || (headDim == 0 && hidden % heads != 0)) {
            throw new IpgException("inconsistent shape: hidden " + hidden + ", heads " + heads + ", kv heads " + kv
                    + " (hidden must divide by heads unless --head-dim is set; heads must divide by kv heads)");
        }
        var s = new RandomCheckpoint.Spec(fam, hidden, layers, heads, kv, headDim, ff, v, context, dt, tied || fam == Family.GPT2,
                false, true);
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, ".ipg-random-");
        try {
            RandomCheckpoint.write(tmp, s, seed);
            if (tokenizer != null) {
                Files.copy(tokenizer.resolve("tokenizer.json"), tmp.resolve("tokenizer.json"));
                Files.copy(tokenizer.resolve("tokenizer_config.json"), tmp.resolve("tokenizer_config.json"));
            }
            if (Files.exists(out)) {
                AtomicFiles.deleteTree(out);
            }
            try {
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            AtomicFiles.deleteTree(tmp);
            throw e;
        }
        err.printf(Locale.ROOT, "[wrote a random %s checkpoint (%,d parameters, %s) to %s]%n", fam.architecture(),
                ModelConfig.load(out).parameterCount(), dt, out);
        return 0;
    }

    private static boolean hasEntries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isPresent();
        }
    }
}
