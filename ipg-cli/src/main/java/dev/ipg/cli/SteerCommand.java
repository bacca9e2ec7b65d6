package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.eval.SupportOverlap;
import dev.ipg.core.generate.Generator;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Site;
import dev.ipg.core.sae.SaeSite;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.ScoresFile;
import dev.ipg.core.steer.Steering;
import dev.ipg.core.steer.SteeringVector;
import dev.ipg.core.steer.Top;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ipg steer}: generate with components scaled or a direction added. */
@Command(name = "steer", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate with the top components of a scores file scaled by gamma at every position (gamma 0 suppresses, "
                + "> 1 enhances), or with a steering vector added.",
                "Examples:",
                "  ipg steer -m DIR --scores runs/ipg --top-percent 5 --gamma 0 -p 'What is 17 * 23?'",
                "  ipg steer -m DIR --vector runs/cv/vector.safetensors --strength 4 -p '...'",
                "  ipg steer -m DIR --intervention scale:runs/ipg:top-count=20:gamma=1.5:rank=abs -p '...'"})
final class SteerCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Mixin
    PromptOptions prompt;

    @Option(names = "--scores", paramLabel = "RUN_DIR", description = "Run directory (or scores.safetensors) of ipg attribute or ipg baseline.")
    Path scores;

    @Option(names = "--site", paramLabel = "SITE", description = "The site, when the scores file holds several, or of a vector file that does not name it (e.g. written with numpy).")
    String site;

    @Mixin
    SelectionOptions select;

    @Option(names = "--rank", defaultValue = "signed", paramLabel = "signed|abs", converter = Choice.Ranks.class,
            completionCandidates = Choice.Ranks.class,
            description = "Rank by signed score (the paper) or abs (|score|) (default: ${DEFAULT-VALUE}).")
    Rank rank;

    @Option(names = "--gamma", paramLabel = "G", description = "Factor for the selected components: 0 suppresses, > 1 enhances.")
    Double gamma;

    @Option(names = "--vector", paramLabel = "FILE", description = "Steering vector file (tensor 'vector', metadata ipg.site), or a run directory holding vector.safetensors.")
    Path vector;

    @Option(names = "--strength", paramLabel = "S", description = "Multiplier of the added vector (0: no change).")
    Double strength;

    @Option(names = "--intervention", paramLabel = "SPEC",
            description = "Instead of the options above: none, scale:RUN_DIR:top-percent=P:gamma=G (or top-count=K)[:rank=abs][:site=SITE] "
                    + "or add:FILE:strength=S.")
    String intervention;

    @Mixin
    SamplingOptions.Decoding decoding;

    @Mixin
    SamplingOptions.TopK topK;

    @Option(names = "--sample-top-k", hidden = true, paramLabel = "K")
    void retiredSampleTopK(String value) {
        throw SelectionOptions.retired(spec, "--sample-top-k", "--top-k K (the sampling top-k)");
    }

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    SamplingOptions.Budget budget;

    @Option(names = "--compare", description = "Also generate without the intervention (same seed) and print both.")
    boolean compare;

    @Mixin
    SaeOptions saeOptions;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** The steering the options describe. */
    Steering steering() {
        boolean scale = scores != null || select.given() || gamma != null;
        boolean add = vector != null || strength != null;
        if (intervention != null) {
            if (scale || add) {
                throw new IpgException("--intervention replaces --scores/--top-percent/--top-count/--gamma and --vector/--strength; "
                        + "give one or the other");
            }
            return saeOptions.given() ? Steering.parse(intervention, saeOptions.load(null)) : Steering.parse(intervention);
        }
        if (scale && add) {
            throw new IpgException("give either --scores with --top-percent/--top-count and --gamma, or --vector with --strength, not both");
        }
        if (add) {
            if (vector == null || strength == null) {
                throw new IpgException("--vector needs --strength (and --strength needs --vector)");
            }
            return new Steering.Add(SteeringVector.load(vector, site == null ? null : Site.parse(site)), strength, vector.toString());
        }
        if (!scale) {
            throw new IpgException("nothing to steer with: give --scores RUN_DIR --top-percent P --gamma G, --vector FILE --strength S, "
                    + "or --intervention SPEC");
        }
        if (scores == null || gamma == null || !select.given()) {
            throw new IpgException("scaling needs --scores RUN_DIR, one of --top-percent P or --top-count K, and --gamma G"
                    + (!select.given() && topK.topK > 0 ? " (--top-k is the sampling top-k; the number of components is --top-count)" : ""));
        }
        Top t = select.top();
        ScoresFile sf = ScoresFile.load(scores, site == null ? null : SaeSite.isSaeName(site) ? SaeSite.parse(site).site() : Site.parse(site));
        sf.constantWarning().ifPresent(w -> spec.commandLine().getErr().println("[warning: " + w + "]"));
        return Steering.scale(sf, t, rank, gamma, sf.latents() ? saeOptions.load(sf.site()) : null);
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Steering steering = steering();
        if (steering instanceof Steering.Scale sc && sc.scores() != null) {
            sc.scores().constantWarning().ifPresent(w -> err.println("[warning: " + w + "]"));
            if (prompt.prompt != null) {
                SupportOverlap.withPrompt(sc.scores(), prompt.prompt).ifPresent(w -> err.println("[warning: " + w + "]"));
            }
        }
        SamplingParams sp = new SamplingParams(decoding.temperature, topK.topK, decoding.topP, seed);
        try (Parallel pool = model.pool(); Transformer m = model.load(pool); Tokenizer tok = Tokenizer.load(model.dir())) {
            steering.checkIn(m.config());
            Set<Integer> eos = DatasetFormatOptions.eos(m, tok, model.dir());
            int[] ids = prompt.encode(tok);
            var opts = new Generator.Options(sp, budget.maxNewTokens, eos, List.of(), null);
            err.println("[" + steering.describe() + "]");
            if (compare) {
                var plain = new Generator(m).generate(List.of(ids), opts, Hooks.none(), null).getFirst();
                out.println("=== original (" + plain.tokens().length + " tokens)");
                out.println(tok.decode(plain.tokens(), true));
                out.println("=== steered");
            }
            var decoder = tok.newStreamDecoder();
            long t0 = System.nanoTime();
            var c = new Generator(m).generate(List.of(ids), opts, steering.hooks(), (s, t) -> {
                if (!eos.contains(t)) {
                    out.print(decoder.push(t));
                    out.flush();
                }
            }).getFirst();
            out.println();
            double secs = (System.nanoTime() - t0) / 1e9;
            err.printf(Locale.ROOT, "[%d prompt tokens, %d generated in %.2f s, %s, %d threads, %s]%n", ids.length, c.tokens().length, secs,
                    sp.isGreedy() ? "greedy" : String.format(Locale.ROOT, "T=%s top-p=%s seed=%d", sp.temperature(), sp.topP(), sp.seed()),
                    pool.threads(), m.kernels().name());
        }
        return 0;
    }
}
