package dev.ipg.core.attribution.baselines;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.data.Problem;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.run.RunConfig;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tokenize.Tokenizer;
import java.util.Set;
import java.util.TreeSet;

/**
 * The model and support set a baseline is computed on.
 *
 * @param model    the model
 * @param tok      its tokenizer
 * @param data     the support set
 * @param limit    use the first {@code limit} problems (0: all)
 * @param format   how a question becomes the prompt
 * @param eos      end-of-sequence ids for generation
 * @param progress progress reports
 * @param offload  where the sampled runs (the model's own completions, pg) compute their items
 */
public record Support(Transformer model, Tokenizer tok, Dataset data, int limit, PromptFormat format, Set<Integer> eos,
                      ProgressListener progress, Offload offload) {

    /** Computing everything here. */
    public Support(Transformer model, Tokenizer tok, Dataset data, int limit, PromptFormat format, Set<Integer> eos,
                   ProgressListener progress) {
        this(model, tok, data, limit, format, eos, progress, Offload.HERE);
    }

    public Support {
        eos = Set.copyOf(eos);
        java.util.Objects.requireNonNull(offload, "offload");
        if (data.size() == 0) {
            throw new IpgException("the support set " + data.name() + " has no problems");
        }
        if (limit < 0) {
            throw new IpgException("--limit must be >= 0 (0 = all), got " + limit);
        }
        data.prompts(limit, format, tok, model.config().maxPositions()); // every prompt checked before any work
    }

    /** The same support with its sampled runs' items computed by {@code o}. */
    public Support withOffload(Offload o) {
        return new Support(model, tok, data, limit, format, eos, progress, o);
    }

        /** Number of problems used. */
    public int used() {
        return limit > 0 ? Math.min(limit, data.size()) : data.size();
    }

    /** Problem {@code i}. */
    public Problem problem(int i) {
        return data.get(i);
    }

    /** Prompt ids of problem {@code i}. */
    public int[] prompt(int i) {
        return format.encode(data.get(i).question(), tok);
    }

    /** The configuration shared by every baseline: method, model, dataset, site, prompt format. */
    ObjectNode config(String method, Site site) {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("method", method);
        c.set("model", RunConfig.model(model));
        ObjectNode d = RunConfig.dataset(data);
        c.set("dataset", d);
        d.put("used", used());
        c.put("site", site.toString());
        ArrayNode sites = c.putArray("sites");
        sites.add(site.toString());
        c.set("prompt_format", format.json());
        ArrayNode e = c.putArray("eos_token_ids");
        new TreeSet<>(eos).forEach(e::add);
        return c;
    }

    /**
     * The activations of {@code site} at positions {@code from..T-1} of the teacher-forced
     * sequence {@code ids}, as {@code [(T - from), d]}.
     */
    float[] activations(int[] ids, int from, Site site) {
        if (site.kind() == Site.Kind.ATTN_HEADS) {
            throw new IpgException("this method scores single activations, not whole heads: use "
                    + new Site(site.layer(), Site.Kind.ATTN_Z) + " instead of " + site);
        }
        int d = site.width(model.config());
        float[] out = new float[(ids.length - from) * d];
        Hooks hooks = Hooks.none().read(site, (s, act, w, batch) -> {
            for (int r = 0; r < batch.rows(); r++) {
                int p = batch.pos()[r];
                if (p >= from) {
                    System.arraycopy(act, r * w, out, (p - from) * w, w);
                }
            }
        });
        model.forward(Batch.ofSequence(0, 0, ids), model.newCache(1, ids.length), hooks, new int[0]);
        return out;
    }

    /** {@code a} followed by {@code b}. */
    static int[] concat(int[] a, int[] b) {
        int[] c = new int[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
