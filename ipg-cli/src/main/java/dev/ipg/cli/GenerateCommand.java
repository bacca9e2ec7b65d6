package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.generate.GenerationDefaults;
import dev.ipg.core.generate.Generator;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ipg generate}: sample completions. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from a prompt (streams tokens as they are chosen).")
final class GenerateCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Mixin
    PromptOptions prompt;

    @Option(names = "--temperature", paramLabel = "T",
            description = "Sampling temperature; 0 = greedy (default: generation_config.json, else greedy).")
    Double temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus mass in (0, 1] (default: generation_config.json, else 1).")
    Double topP;

    @Option(names = "--top-k", paramLabel = "K", description = "Keep the K most likely tokens; 0 = off (default: generation_config.json, else 0).")
    Integer topK;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    SamplingOptions.Budget budget;

    @Option(names = "--num-samples", paramLabel = "N", defaultValue = "1",
            description = "Sample N completions in one batch (default: ${DEFAULT-VALUE}).")
    int numSamples;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when the completion contains TEXT (repeatable).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--no-stream", description = "Print completions only when done.")
    boolean noStream;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Refuses a --num-samples whose attention caches and logits cannot fit in the Java heap (before allocating them). */
    private void checkMemory(Transformer m, int promptTokens) {
        var c = m.config();
        long perSequence = Math.min((long) promptTokens + Math.max(0, budget.maxNewTokens), c.maxPositions());
        double bytes = (double) numSamples * (perSequence * 2.0 * c.numLayers() * c.numKvHeads() * c.headDim() * Float.BYTES
                + (double) c.vocabSize() * Float.BYTES);
        long heap = Runtime.getRuntime().maxMemory();
        if (bytes > heap) {
            throw new IpgException(String.format(java.util.Locale.ROOT, "--num-samples: %d sequences of up to %d tokens need about "
                    + "%.1f GB for their attention caches and logits, more than the Java heap of %.1f GB; lower --num-samples (or "
                    + "raise IPG_HEAP)", numSamples, perSequence, bytes / 1e9, heap / 1e9));
        }
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (numSamples < 1) {
            throw new IpgException("--num-samples must be >= 1, got " + numSamples);
        }
        try (Parallel pool = model.pool(); Transformer m = model.load(pool); Tokenizer tok = Tokenizer.load(model.dir())) {
            GenerationDefaults g = GenerationDefaults.load(model.dir());
            SamplingParams sp = sampling(g);
            Set<Integer> eos = new HashSet<>(g.eosTokenIds());
            if (eos.isEmpty()) {
                eos.addAll(m.config().eosTokenIds());
            }
            tok.eosTokenId().ifPresent(eos::add);
            int[] ids = prompt.encode(tok);
            checkMemory(m, ids.length);
            var opts = new Generator.Options(sp, budget.maxNewTokens, eos, stop, a -> tok.decode(a, true));
            boolean stream = !noStream && numSamples == 1;
            var decoder = tok.newStreamDecoder();
            long t0 = System.nanoTime();
            List<Generator.Completion> res = new Generator(m).generate(Collections.nCopies(numSamples, ids), opts, Hooks.none(),
                    stream ? (s, t) -> {
                        if (!eos.contains(t)) {
                            out.print(decoder.push(t));
                            out.flush();
                        }
                    } : null);
            double secs = (System.nanoTime() - t0) / 1e9;
            int tokens = 0;
            for (int i = 0; i < res.size(); i++) {
                var c = res.get(i);
                tokens += c.tokens().length;
                if (stream) {
                    out.println();
                } else {
                    if (numSamples > 1) {
                        out.println("=== sample " + (i + 1) + " (" + c.tokens().length + " tokens, " + finish(c.finish()) + ")");
                    }
                    out.println(tok.decode(c.tokens(), true));
                }
            }
            err.printf(Locale.ROOT, "[%d prompt tokens, %d generated in %.2f s (%.1f tokens/s), %s, %s, %d threads, %s]%n",
                    ids.length, tokens, secs, tokens / Math.max(secs, 1e-9),
                    numSamples == 1 ? finish(res.getFirst().finish()) : numSamples + " samples",
                    sp.isGreedy() ? "greedy" : String.format(Locale.ROOT, "T=%s top-p=%s top-k=%d seed=%d",
                            sp.temperature(), sp.topP(), sp.topK(), sp.seed()),
                    pool.threads(), m.kernels().name());
        }
        return 0;
    }

    private SamplingParams sampling(GenerationDefaults g) {
        double t;
        if (temperature != null) {
            t = temperature;
        } else if (Boolean.TRUE.equals(g.doSample()) && g.temperature() != null) {
            t = g.temperature();
        } else {
            t = 0;
        }
        double p = topP != null ? topP : (t > 0 && g.topP() != null ? g.topP() : 1.0);
        int k = topK != null ? topK : (t > 0 && g.topK() != null ? g.topK() : 0);
        return new SamplingParams(t, k, p, seed);
    }

    private static String finish(Generator.Finish f) {
        return switch (f) {
            case EOS -> "end of sequence";
            case STOP_STRING -> "stop string";
            case MAX_TOKENS -> "max new tokens";
            case CONTEXT -> "context full";
        };
    }
}
