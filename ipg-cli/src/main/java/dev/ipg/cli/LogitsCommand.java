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
import dev.ipg.core.sae.Sae;
import dev.ipg.core.sae.SaeSite;
import dev.ipg.core.sae.SaeSplice;
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
                + "(attn.hook_q and attn.hook_z as [T, heads, head_dim], attn.hook_k and attn.hook_v as [T, kv_heads, head_dim], "
                + "attn.hook_pattern as [heads, T, T]) to a safetensors file.")
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
            description = "Sites to record, e.g. blocks.3.hook_resid_post,blocks.3.mlp.hook_post. Sites: hook_embed, "
                    + "hook_pos_embed (learned positions only), blocks.L.hook_resid_pre, blocks.L.attn.hook_q, blocks.L.attn.hook_k, "
                    + "blocks.L.attn.hook_v, blocks.L.attn.hook_pattern, blocks.L.attn.hook_z, blocks.L.attn.hook_z.heads "
                    + "(hook_z, one component per head), blocks.L.hook_attn_out, blocks.L.hook_resid_mid, blocks.L.mlp.hook_post, "
                    + "blocks.L.hook_mlp_out, blocks.L.hook_resid_post, ln_final.hook_normalized. With --sae also "
                    + "SITE.hook_sae_acts_post (latents [T, d_sae]), SITE.hook_sae_recons and SITE.hook_sae_error.")
    List<String> cache = new ArrayList<>();

    @Option(names = "--grad-site", paramLabel = "SITE",
            description = "Also write grad [T, d] (shaped as the site's --cache output) = dL/dh at SITE and scale_grad [d] = dL/dalpha (alpha = 1, zero baseline), "
                    + "L = sum of log p(x_t | x_<t) for t >= --from.")
    String gradSite;

    @Option(names = "--from", paramLabel = "K", defaultValue = "1",
            description = "First scored position of L (default: ${DEFAULT-VALUE}).")
    int from;

    @Mixin
    SaeOptions saeOptions;

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
            var saeSites = new LinkedHashSet<SaeSite>();
            for (String s : cache) {
                if (SaeSite.isSaeName(s)) {
                    saeSites.add(SaeSite.parse(s));
                } else {
                    sites.add(Site.parse(s).checkIn(m.config()));
                }
            }
            Site saeWanted = !saeSites.isEmpty() ? saeSites.iterator().next().site()
                    : gradSite != null && SaeSite.isSaeName(gradSite) ? SaeSite.parse(gradSite).site() : null;
            if ((!saeSites.isEmpty() || saeWanted != null) && !saeOptions.given()) {
                throw new IpgException("--cache/--grad-site " + saeWanted + ".hook_sae_*: give the SAE with --sae DIR");
            }
            Sae sae = saeOptions.given() ? saeOptions.load(m.config(), saeWanted) : null;
            for (SaeSite s : saeSites) {
                if (!s.site().equals(sae.site())) {
                    throw new IpgException("--cache " + s + ": the SAE of --sae reads " + sae.site());
                }
            }
            ActivationCache rec = new ActivationCache();
            Hooks hooks = Hooks.none();
            for (Site s : sites) {
                hooks.read(s, rec);
            }
            java.util.Map<SaeSite, ActivationCache> saeRec = new java.util.LinkedHashMap<>();
            if (sae != null) {
                SaeSplice splice = new SaeSplice(sae);
                for (SaeSite s : saeSites) {
                    ActivationCache c = new ActivationCache();
                    saeRec.put(s, c);
                    splice.read(s.point(), c);
                }
                splice.addTo(hooks);
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
                boolean latents = SaeSite.isSaeName(gradSite);
                if (latents && SaeSite.parse(gradSite).point() != SaeSite.Point.ACTS_POST) {
                    throw new IpgException("--grad-site " + gradSite + ": gradients are taken at the latents, SITE.hook_sae_acts_post");
                }
                Site gs = latents ? sae.site() : Site.parse(gradSite).checkIn(m.config());
                int width = latents ? sae.dSae() : gs.width(m.config());
                ReverseMode rm = new ReverseMode(m);
                if (maxMemory != null) {
                    rm.budget(Sizes.parse(maxMemory, "--max-memory"));
                }
                if (rm.plannedBytes(t, gs, false) <= rm.budget()) {
                    err.println("[" + rm.describePlan(t, gs, false) + "]");
                }
                long g0 = System.nanoTime();
                var res = rm.siteGradients(List.of(new Trajectory(ids, from)),
                        latents ? Interpolation.at(sae, 1, null, 0) : Interpolation.uniform(gs, width, 1f), true).getFirst();
                err.printf(Locale.ROOT, "[backward to %s in %.2f s; L = %.6f]%n", latents ? gradSite : gs,
                        (System.nanoTime() - g0) / 1e9, res.objective());
                float[] grad = res.siteGrad();
                if (latents) {
                    // dL/df_t = s_out W_dec dL/dz_t, per position, with the error term fixed
                    int d = sae.dIn();
                    float[] gl = new float[t * width];
                    for (int r = 0; r < t; r++) {
                        System.arraycopy(sae.decodeBackward(sae.encode(res.activation(), r * d), grad, r * d), 0, gl, r * width, width);
                    }
                    grad = gl;
                }
                w.add("grad", grad, latents ? new long[] {t, width} : gs.shape(m.config(), t), DType.F32);
                w.add("scale_grad", res.scaleGrad(), new long[] {width}, DType.F32);
                w.add("loss", new float[] {(float) res.objective()}, new long[] {1}, DType.F32);
                w.metadata("ipg.grad_site", latents ? SaeSite.parse(gradSite).toString() : gs.toString());
                w.metadata("ipg.from", Integer.toString(from));
            }
            for (Site s : sites) {
                // as TransformerLens has them: hook_q/k/v/z [pos, head, d_head], hook_pattern [head, q_pos, k_pos], else [T, d]
                w.add(s.toString(), rec.get(s, 0, m.config()), s.shape(m.config(), t), DType.F32);
            }
            for (var e : saeRec.entrySet()) {
                int width = e.getKey().point() == SaeSite.Point.ACTS_POST ? sae.dSae() : sae.dIn();
                w.add(e.getKey().toString(), e.getValue().get(sae.site(), 0), new long[] {t, width}, DType.F32);
            }
            if (sae != null) {
                w.metadata("ipg.sae", sae.source());
            }
            w.metadata("ipg.command", "logits");
            w.metadata("ipg.model", m.dir().toAbsolutePath().normalize().toString());
            w.metadata("ipg.token_ids", Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(",")));
            w.metadata("ipg.kernels", m.kernels().name());
            w.write(out);
            err.printf(Locale.ROOT, "[%d tokens in %.2f s; wrote logits%s%s to %s]%n", t, secs,
                    sites.isEmpty() && saeRec.isEmpty() ? "" : ", " + (sites.size() + saeRec.size()) + " site(s)", gradSite == null ? "" : ", grad and scale_grad", out);
        }
        return 0;
    }
}
