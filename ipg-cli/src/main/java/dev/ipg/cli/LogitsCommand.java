package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.grad.Interpolation;
import dev.ipg.core.grad.ReverseMode;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.model.ActivationCache;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ipg logits}: one full-sequence forward pass, written to safetensors. */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Run one forward pass over a prompt and write the logits [T, V] and cached site activations [T, d] "
                + "to a safetensors file.")
final class LogitsCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    static final class Input {
        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", required = true,
                description = "Prompt text (encoded with the tokenizer's special tokens).")
        String prompt;

        @Option(names = "--token-ids", paramLabel = "IDS", required = true, split = ",",
                description = "Comma-separated token ids, used as given.")
        int[] tokenIds;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "Output .safetensors file.")
    Path out;

    @Option(names = "--cache", paramLabel = "SITE", split = ",",
            description = "Sites to record, e.g. blocks.3.hook_resid_post,blocks.3.mlp.hook_post.")
    List<String> cache = new ArrayList<>();

    @Option(names = "--grad-site", paramLabel = "SITE",
            description = "Also write grad [T, d] = dL/dh at SITE and scale_grad [d] = dL/dalpha (alpha = 1, zero baseline), "
                    + "L = sum of log p(x_t | x_<t) for t >= --from.")
    String gradSite;

    @Option(names = "--from", paramLabel = "K", defaultValue = "1",
            description = "First scored position of L (default: ${DEFAULT-VALUE}).")
    int from;

    @Option(names = "--max-memory", paramLabel = "SIZE",
            description = "Working-set budget of the reverse mode, e.g. 8g or 512m (default: 85%% of the free heap).")
    String maxMemory;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try (Parallel pool = model.pool(); Transformer m = model.load(pool)) {
            int[] ids;
            if (input.tokenIds != null) {
                ids = input.tokenIds;
            } else {
                try (Tokenizer tok = Tokenizer.load(model.dir())) {
                    ids = tok.encode(input.prompt, true);
                }
            }
            if (ids.length == 0) {
                throw new IpgException("no tokens to run");
            }
            var sites = new LinkedHashSet<Site>();
            for (String s : cache) {
                sites.add(Site.parse(s).checkIn(m.config()));
            }
            ActivationCache rec = new ActivationCache();
            Hooks hooks = Hooks.none();
            for (Site s : sites) {
                hooks.read(s, rec);
            }
            int t = ids.length;
            int[] all = new int[t];
            Arrays.setAll(all, i -> i);
            long t0 = System.nanoTime();
            float[] logits = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, t), hooks, all);
            double secs = (System.nanoTime() - t0) / 1e9;
            SafetensorsWriter w = new SafetensorsWriter();
            w.add("logits", logits, new long[] {t, m.config().vocabSize()}, DType.F32);
            if (gradSite != null) {
                Site gs = Site.parse(gradSite).checkIn(m.config());
                int width = gs.width(m.config());
                ReverseMode rm = new ReverseMode(m);
                if (maxMemory != null) {
                    rm.budget(Sizes.parse(maxMemory, "--max-memory"));
                }
                if (rm.plannedBytes(t, gs, false) <= rm.budget()) {
                    err.println("[" + rm.describePlan(t, gs, false) + "]");
                }
                long g0 = System.nanoTime();
                var res = rm.siteGradients(List.of(new Trajectory(ids, from)), Interpolation.uniform(gs, width, 1f), true).getFirst();
                err.printf(Locale.ROOT, "[backward to %s in %.2f s; L = %.6f]%n", gs, (System.nanoTime() - g0) / 1e9, res.objective());
                w.add("grad", res.siteGrad(), new long[] {t, width}, DType.F32);
                w.add("scale_grad", res.scaleGrad(), new long[] {width}, DType.F32);
                w.add("loss", new float[] {(float) res.objective()}, new long[] {1}, DType.F32);
                w.metadata("ipg.grad_site", gs.toString());
                w.metadata("ipg.from", Integer.toString(from));
            }
            for (Site s : sites) {
                w.add(s.toString(), rec.get(s, 0), new long[] {t, s.width(m.config())}, DType.F32);
            }
            w.metadata("ipg.command", "logits");
            w.metadata("ipg.model", m.dir().toAbsolutePath().normalize().toString());
            w.metadata("ipg.token_ids", Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(",")));
            w.metadata("ipg.kernels", m.kernels().name());
            w.write(out);
            err.printf(Locale.ROOT, "[%d tokens in %.2f s; wrote logits%s%s to %s]%n", t, secs,
                    sites.isEmpty() ? "" : ", " + sites.size() + " site(s)", gradSite == null ? "" : ", grad and scale_grad", out);
        }
        return 0;
    }
}
