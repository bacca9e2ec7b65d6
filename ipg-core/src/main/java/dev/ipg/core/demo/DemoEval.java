package dev.ipg.core.demo;

import dev.ipg.core.generate.Generator;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.signal.Sample;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.tokenize.ChatMessage;
import dev.ipg.core.tokenize.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Accuracy of a model on demo problems: each question goes through the chat template as a user
 * message, the model generates until {@code <|im_end|>} (or the budget), and the answer after
 * {@code ####} is compared with the gold by the {@code correct} signal, the same code that scores
 * any GSM8K-shaped data set.
 */
public final class DemoEval {

    /**
     * @param correct     problems answered correctly
     * @param total       problems asked
     * @param meanTokens  mean generated tokens per completion
     * @param reflections mean number of reflection words ("wait", ...) per completion
     * @param completions the decoded completions, in problem order
     * @param right       whether each completion's answer is right, in problem order
     */
    public record Result(int correct, int total, double meanTokens, double reflections, List<String> completions,
                         List<Boolean> right) {
        public Result {
            completions = List.copyOf(completions);
            right = List.copyOf(right);
        }

        /** Problems answered right among the first {@code n}. */
        public int correctAmongFirst(int n) {
            int c = 0;
            for (int i = 0; i < Math.min(n, right.size()); i++) {
                c += right.get(i) ? 1 : 0;
            }
            return c;
        }

        public double accuracy() {
            return total == 0 ? Double.NaN : (double) correct / total;
        }
    }

    private DemoEval() {
    }

    /** The prompt token ids of a question. */
    public static int[] prompt(Tokenizer tok, String question) {
        String text = tok.chatTemplate().render(List.of(new ChatMessage("user", question)), true);
        return tok.encode(text, false);
    }

    /**
     * Runs {@code examples} through {@code model} in batches of {@code batch} with {@code sampling}
     * (the seed of batch b is {@code sampling.seed() + b}).
     */
    public static Result run(Transformer model, Tokenizer tok, List<DemoData.Example> examples, SamplingParams sampling,
                             int maxNewTokens, int batch) {
        return run(model, tok, examples, sampling, maxNewTokens, batch, Hooks.none());
    }

    /** As {@link #run(Transformer, Tokenizer, List, SamplingParams, int, int)}, with {@code hooks} applied to every pass. */
    public static Result run(Transformer model, Tokenizer tok, List<DemoData.Example> examples, SamplingParams sampling,
                             int maxNewTokens, int batch, Hooks hooks) {
        Set<Integer> eos = Set.of(CharVocabulary.IM_END, CharVocabulary.END_OF_TEXT);
        Signal.Correct correct = new Signal.Correct();
        Signal.Reflection reflection = new Signal.Reflection();
        int right = 0;
        long tokens = 0;
        double refl = 0;
        List<String> texts = new ArrayList<>();
        List<Boolean> ok = new ArrayList<>();
        for (int b0 = 0; b0 < examples.size(); b0 += batch) {
            List<DemoData.Example> part = examples.subList(b0, Math.min(examples.size(), b0 + batch));
            List<int[]> prompts = new ArrayList<>();
            for (DemoData.Example e : part) {
                prompts.add(prompt(tok, e.question()));
            }
            SamplingParams sp = new SamplingParams(sampling.temperature(), sampling.topK(), sampling.topP(),
                    sampling.seed() + b0 / batch);
            var opts = new Generator.Options(sp, maxNewTokens, eos, List.of(), null);
            List<Generator.Completion> out = new Generator(model).generate(prompts, opts, hooks, null);
            for (int i = 0; i < part.size(); i++) {
                Generator.Completion c = out.get(i);
                String text = tok.decode(c.tokens(), true);
                texts.add(text);
                Sample s = new Sample("demo-" + (b0 + i), null, text, c.tokens().length, Integer.toString(part.get(i).gold()));
                boolean good = correct.reward(s) == 1;
                ok.add(good);
                right += good ? 1 : 0;
                refl += reflection.reward(s);
                tokens += c.tokens().length;
            }
        }
        int n = examples.size();
        return new Result(right, n, n == 0 ? 0 : (double) tokens / n, n == 0 ? 0 : refl / n, texts, ok);
    }
}
