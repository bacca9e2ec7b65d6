package dev.ipg.core.generate;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.KVCache;
import dev.ipg.core.model.Transformer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Batched generation with a KV cache: all distinct prompts are prefilled in one forward pass
 * (sequences that share a prompt get a copy of its cache, so hooks see that prompt's prefill once,
 * under the first sequence that has it), then each step feeds one new token per unfinished
 * sequence. Sequence i draws from its own random stream
 * (the i-th split of the seed), so results do not depend on the thread count or on which other
 * sequences share the batch.
 */
public final class Generator {

    /** Why a sequence stopped. */
    public enum Finish { EOS, STOP_STRING, MAX_TOKENS, CONTEXT }

    /** One finished sequence: generated ids (an end-of-sequence id, if produced, is the last). */
    public record Completion(int[] prompt, int[] tokens, Finish finish) {
    }

    /**
     * @param sampling      token choice
     * @param maxNewTokens  generation budget per sequence
     * @param eosIds        ids that end a sequence
     * @param stopStrings   texts that end a sequence once they appear in the decoded completion
     * @param decoder       turns generated ids into text (needed only with stop strings)
     */
    public record Options(SamplingParams sampling, int maxNewTokens, Set<Integer> eosIds, List<String> stopStrings,
                          Function<int[], String> decoder) {
        public Options {
            if (maxNewTokens < 0) {
                throw new IpgException("max new tokens must be >= 0, got " + maxNewTokens);
            }
            eosIds = Set.copyOf(eosIds);
            stopStrings = List.copyOf(stopStrings);
            if (!stopStrings.isEmpty() && decoder == null) {
                throw new IllegalArgumentException("stop strings need a decoder");
            }
        }
    }

    /** Receives each token as soon as it is chosen. */
    @FunctionalInterface
    public interface Listener {
        void onToken(int sequence, int token);
    }

    private final Transformer model;

    public Generator(Transformer model) {
        this.model = model;
    }

    /** Generates a completion for each prompt. */
    public List<Completion> generate(List<int[]> prompts, Options opt, Hooks hooks, Listener listener) {
        SplittableRandom base = new SplittableRandom(opt.sampling().seed());
        SplittableRandom[] rng = new SplittableRandom[prompts.size()];
        for (int i = 0; i < rng.length; i++) {
            rng[i] = base.split();
        }
        return generate(prompts, new int[prompts.size()], rng, opt, hooks, listener);
    }

    /**
     * Generates a completion for each prompt, sequence i drawing from {@code rng[i]} (the
     * sampling seed of {@code opt} is not used). Sequences share a prefill only when both their
     * prompts and their {@code groups} entries are equal, so hooks that act differently per group
     * (for example one interpolation per group) see each group's own prefill.
     */
    public List<Completion> generate(List<int[]> prompts, int[] groups, SplittableRandom[] rng, Options opt, Hooks hooks,
                                     Listener listener) {
        int n = prompts.size();
        if (groups.length != n || rng.length != n) {
            throw new IllegalArgumentException(n + " prompts, " + groups.length + " groups, " + rng.length + " random streams");
        }
        int vocab = model.config().vocabSize();
        int longest = 0;
        for (int i = 0; i < n; i++) {
            if (prompts.get(i).length == 0) {
                throw new IpgException("prompt " + i + " is empty: at least one token is needed");
            }
            longest = Math.max(longest, prompts.get(i).length);
        }
        if (longest > model.config().maxPositions()
                || (longest == model.config().maxPositions() && opt.maxNewTokens() > 0)) {
            throw new IpgException("prompt of " + longest + " tokens leaves no room in the model's context of "
                    + model.config().maxPositions() + " positions");
        }
        // prompt + budget, clamped to the model's context (a completion that reaches it ends with Finish.CONTEXT)
        KVCache cache = model.newCache(n, (int) Math.min((long) longest + opt.maxNewTokens(), model.config().maxPositions()));
        if ((long) n * vocab > KVCache.MAX_ARRAY) {
            throw new IpgException(n + " sequences x " + vocab + " logits do not fit in one array; generate fewer at once");
        }
        Sampler sampler = new Sampler(opt.sampling());
        List<List<Integer>> out = new ArrayList<>();
        Finish[] finish = new Finish[n];
        for (int i = 0; i < n; i++) {
            out.add(new ArrayList<>());
        }

        // Prefill: each distinct prompt once, in one batch; sequences with the same prompt get a
        // copy of its cache and share its last-row logits.
        int[] firstOf = new int[n];
        java.util.Map<java.util.List<Integer>, Integer> seen = new java.util.HashMap<>();
        List<Integer> distinct = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            var key = java.util.stream.IntStream.concat(java.util.stream.IntStream.of(groups[i]),
                    java.util.Arrays.stream(prompts.get(i))).boxed().toList();
            Integer f = seen.putIfAbsent(key, i);
            firstOf[i] = f == null ? i : f;
            if (f == null) {
                distinct.add(i);
            }
        }
        long totalLong = 0;
        for (int i : distinct) {
            totalLong += prompts.get(i).length;
        }
        if (totalLong > KVCache.MAX_ARRAY) {
            throw new IpgException(distinct.size() + " distinct prompts of " + totalLong
                    + " tokens in all are too many for one prefill; generate fewer at once");
        }
        int total = (int) totalLong;
        int[] tok = new int[total];
        int[] seq = new int[total];
        int[] pos = new int[total];
        int[] lastRow = new int[distinct.size()];
        int r = 0;
        for (int d = 0; d < distinct.size(); d++) {
            int i = distinct.get(d);
            int[] p = prompts.get(i);
            for (int t = 0; t < p.length; t++, r++) {
                tok[r] = p[t];
                seq[r] = i;
                pos[r] = t;
            }
            lastRow[d] = r - 1;
        }
        int[] active = new int[n];
        for (int i = 0; i < n; i++) {
            active[i] = i;
        }
        if (opt.maxNewTokens() == 0) {
            Arrays.fill(finish, Finish.MAX_TOKENS);
            return collect(prompts, out, finish);
        }
        float[] prefill = model.forward(new Batch(tok, seq, pos), cache, hooks, lastRow);
        float[] logits = new float[n * vocab];
        for (int i = 0; i < n; i++) {
            int d = distinct.indexOf(firstOf[i]);
            if (firstOf[i] != i) {
                cache.copySlot(firstOf[i], i);
            }
            System.arraycopy(prefill, d * vocab, logits, i * vocab, vocab);
        }
        int nActive = n;
        while (nActive > 0) {
            int[] nextTok = new int[nActive];
            int[] nextSeq = new int[nActive];
            int[] nextPos = new int[nActive];
            int m = 0;
            for (int a = 0; a < nActive; a++) {
                int s = active[a];
                int t = sampler.sample(logits, a * vocab, vocab, rng[s]);
                out.get(s).add(t);
                if (listener != null) {
                    listener.onToken(s, t);
                }
                Finish f = null;
                if (opt.eosIds().contains(t)) {
                    f = Finish.EOS;
                } else if (!opt.stopStrings().isEmpty() && endsWithStop(out.get(s), opt)) {
                    f = Finish.STOP_STRING;
                } else if (out.get(s).size() >= opt.maxNewTokens()) {
                    f = Finish.MAX_TOKENS;
                } else if (cache.length(s) + 1 >= model.config().maxPositions()) {
                    // t sits at the model's last position: prompt + completion fill the context
                    f = Finish.CONTEXT;
                }
                if (f != null) {
                    finish[s] = f;
                    continue;
                }
                nextTok[m] = t;
                nextSeq[m] = s;
                nextPos[m] = cache.length(s);
                active[m] = s;
                m++;
            }
            nActive = m;
            if (m == 0) {
                break;
            }
            int[] rows = new int[m];
            for (int i = 0; i < m; i++) {
                rows[i] = i;
            }
            logits = model.forward(new Batch(Arrays.copyOf(nextTok, m), Arrays.copyOf(nextSeq, m), Arrays.copyOf(nextPos, m)),
                    cache, hooks, rows);
        }
        return collect(prompts, out, finish);
    }

    private static boolean endsWithStop(List<Integer> generated, Options opt) {
        String text = opt.decoder().apply(generated.stream().mapToInt(Integer::intValue).toArray());
        for (String s : opt.stopStrings()) {
            if (!s.isEmpty() && text.contains(s)) {
                return true;
            }
        }
        return false;
    }

    private static List<Completion> collect(List<int[]> prompts, List<List<Integer>> out, Finish[] finish) {
        List<Completion> res = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            res.add(new Completion(prompts.get(i).clone(), out.get(i).stream().mapToInt(Integer::intValue).toArray(), finish[i]));
        }
        return res;
    }
}
