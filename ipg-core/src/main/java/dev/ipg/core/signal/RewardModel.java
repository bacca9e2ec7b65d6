package dev.ipg.core.signal;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.ChatMessage;
import dev.ipg.core.tokenize.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A reward model as a signal: a Llama/Mistral/Qwen2/Qwen3 {@code ...ForSequenceClassification}
 * checkpoint run by the engine; the reward is its first score ({@code score.weight} row 0) at the
 * last token, as Hugging Face pools an unpadded sequence. The text scored is the conversation
 * [user: prompt, assistant: completion] through the reward model's chat template when it has one,
 * otherwise prompt followed by completion.
 */
public final class RewardModel implements Signal {

    private final Path dir;
    private final Parallel pool;
    /** Whether {@link #close} closes {@link #pool} (it was made for this model). */
    private final boolean ownsPool;
    private final Transformer model;
    private final Tokenizer tok;

    /**
     * Loads the reward model in {@code dir}, to run on {@code pool}: the caller's pool, sized by
     * its thread setting, which the reward model shares (scores are computed between the policy's
     * passes, never during them) and does not close.
     */
    public RewardModel(Path dir, Parallel pool) {
        this(dir, pool, false);
    }

    private RewardModel(Path dir, Parallel pool, boolean ownsPool) {
        this.dir = dir;
        this.pool = pool;
        this.ownsPool = ownsPool;
        Transformer m = null;
        try {
            m = Transformer.load(dir, KernelsProvider.lookup(), pool);
            if (!m.config().isClassifier()) {
                throw new IpgException("reward-model:" + dir + " is a " + m.config().family().architecture()
                        + ", not a ...ForSequenceClassification checkpoint");
            }
            this.model = m;
            this.tok = Tokenizer.load(dir);
        } catch (RuntimeException e) {
            if (m != null) {
                m.close();
            }
            if (ownsPool) {
                pool.close();
            }
            throw e;
        }
    }

    /** The reward model's score of a token sequence (its last token's first output). */
    public double score(int[] ids) {
        if (ids.length == 0) {
            throw new IpgException("reward-model: nothing to score");
        }
        float[] out = model.forward(Batch.ofSequence(0, 0, ids), model.newCache(1, ids.length), Hooks.none(),
                new int[] {ids.length - 1});
        return out[0];
    }

    /** The threads of the pool the model runs on. */
    int threads() {
        return pool.threads();
    }

    /** The text the reward model reads for a sample. */
    String text(Sample s) {
        if (tok.hasChatTemplate()) {
            return tok.chatTemplate().render(List.of(new ChatMessage("user", s.prompt()), new ChatMessage("assistant", s.completion())),
                    false, Map.of());
        }
        return s.prompt() + s.completion();
    }

    @Override
    public double reward(Sample s) {
        return score(tok.encode(text(s), !tok.hasChatTemplate()));
    }

    @Override
    public String spec() {
        return "reward-model:" + dir;
    }

    @Override
    public void close() {
        tok.close();
        model.close();
        if (ownsPool) {
            pool.close();
        }
    }

    /** Loads the reward model in {@code dir} on a pool of its own of {@code threads} threads, closed with it. */
    public static RewardModel withOwnPool(Path dir, int threads) {
        return new RewardModel(dir, Parallel.of(threads), true);
    }
}
