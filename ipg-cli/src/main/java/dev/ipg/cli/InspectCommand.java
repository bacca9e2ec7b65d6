package dev.ipg.cli;

import dev.ipg.core.generate.GenerationDefaults;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.Parallel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/** {@code ipg inspect}: what a model directory holds. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a model's architecture, parameter count, dtypes and hook sites.")
final class InspectCommand implements Callable<Integer> {

    @Mixin
    ModelOptions opts;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        opts.checkThreads(); // inspect runs serially, but a bad value is still refused
        try (Parallel pool = Parallel.serial(); Transformer m = opts.loadAny(pool)) {
            ModelConfig c = m.config();
            out.printf(Locale.ROOT, "model         %s%n", m.dir().toAbsolutePath().normalize());
            out.printf(Locale.ROOT, "architecture  %s (%s)%n", c.architecture(), c.family().name().toLowerCase(Locale.ROOT));
            if (c.isClassifier()) {
                out.printf(Locale.ROOT, "head          score.weight, %d label(s): a reward model for --signal reward-model:DIR, not for "
                        + "generation%n", c.numLabels());
            }
            out.printf(Locale.ROOT, "parameters    %,d%n", c.parameterCount());
            out.printf(Locale.ROOT, "dtypes        %s%n", m.weights().dtypes());
            out.printf(Locale.ROOT, "files         %s%n", m.checkpoint().files().stream().map(p -> p.getFileName().toString()).toList());
            out.printf(Locale.ROOT, "layers        %d%n", c.numLayers());
            out.printf(Locale.ROOT, "hidden        %d%n", c.hiddenSize());
            out.printf(Locale.ROOT, "heads         %d query, %d key/value, head_dim %d%n", c.numHeads(), c.numKvHeads(), c.headDim());
            out.printf(Locale.ROOT, "mlp           %d, %s%s%n", c.intermediateSize(), c.activation().name().toLowerCase(Locale.ROOT),
                    c.gatedMlp() ? " gated" : "");
            out.printf(Locale.ROOT, "norm          %s, eps %s%n", c.norm(), c.normEps());
            out.printf(Locale.ROOT, "positions     %s%n", c.positions() == ModelConfig.PositionType.ROPE
                    ? "rope theta " + c.rope().theta() + " scaling " + c.rope().scalingType() : "learned");
            out.printf(Locale.ROOT, "vocab         %d%n", c.vocabSize());
            out.printf(Locale.ROOT, "context       %d%n", c.maxPositions());
            out.printf(Locale.ROOT, "tied head     %s%n", c.tieEmbeddings());
            GenerationDefaults g = GenerationDefaults.load(m.dir());
            var eos = g.eosTokenIds().isEmpty() ? c.eosTokenIds() : g.eosTokenIds();
            out.printf(Locale.ROOT, "eos ids       %s%n", eos);
            out.printf(Locale.ROOT, "tokenizer     %s%n", Files.exists(m.dir().resolve("tokenizer.json")) ? "tokenizer.json" : "(none)");
            out.println("sites         (L = 0.." + (c.numLayers() - 1) + ")");
            for (Site.Kind k : Site.Kind.values()) {
                Site s = new Site(0, k);
                if (k == Site.Kind.POS_EMBED && c.positions() != ModelConfig.PositionType.LEARNED) {
                    continue;   // rotary positions: no position-embedding site
                }
                String shape = k.readOnly() ? "[" + c.numHeads() + ", T, T], read only"
                        : "width " + s.width(c) + switch (k) {
                            case ATTN_Q, ATTN_Z -> " as [T, " + c.numHeads() + ", " + c.headDim() + "]";
                            case ATTN_K, ATTN_V -> " as [T, " + c.numKvHeads() + ", " + c.headDim() + "]";
                            case ATTN_HEADS -> " (one per head; hook_z's [T, " + c.numHeads() + ", " + c.headDim() + "])";
                            default -> "";
                        };
                out.printf(Locale.ROOT, "  %-25s %s%n", k.nameAt("L"), shape);
            }
        }
        return 0;
    }
}
