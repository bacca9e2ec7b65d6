package dev.ipg.core.demo;

import dev.ipg.core.eval.Wilson;
import dev.ipg.core.train.Trainer;
import java.util.List;
import java.util.Locale;

/** The {@code README.md} model card of a built demo model. */
final class ModelCard {

    /** The eval slice whose greedy count the card states. */
    static final int SLICE = 50;

    private ModelCard() {
    }

    static String text(DemoRecipe.Options o, DemoRecipe.Report r, String command, long weightBytes) {
        DemoModel m = o.model();
        ChainTask.Spec t = o.task();
        ChainTask task = new ChainTask(t);
        var rng = new java.util.SplittableRandom(7);
        ChainTask.Problem ex;
        ChainTask.Solution sol;
        do {
            ex = task.problem(rng);
            sol = task.solve(ex, rng);
        } while (sol.corrections() == 0 || ex.steps().size() < 3);
        StringBuilder sb = new StringBuilder();
        sb.append("# ipg demo reasoning model\n\n");
        sb.append("A tiny Llama trained from scratch by `ipg train-demo` on a synthetic multi-step arithmetic task, ")
                .append("so that Integrated Policy Gradient can be tried end to end on a laptop: its answers depend on a chain ")
                .append("of written steps, and it sometimes reflects (\"wait, ...\") to re-check or correct a step, so ")
                .append("accuracy, length and reflection vary from sample to sample. It is a Hugging Face model directory and ")
                .append("loads like any downloaded checkpoint.\n\n");
        sb.append("## Task\n\n");
        sb.append("Start from a number and apply ").append(t.minSteps()).append(" to ").append(t.maxSteps())
                .append(" operations in order (add or subtract 2..").append(t.maxOperand()).append(", multiply by 2..")
                .append(t.maxFactor()).append("); every intermediate value stays in 0..").append(t.maxValue())
                .append(". The model writes one step per operation and ends with a GSM8K-style answer line.\n\n");
        sb.append("```\nuser:      ").append(ex.question()).append("\nassistant: ")
                .append(sol.text().replace("\n", "\n           ")).append("\n```\n\n");
        sb.append(String.format(Locale.ROOT, "In the training solutions, each step is followed by \"wait,\" and a second "
                + "computation with probability %.2f: a slip (off by 1, 2 or 10, or digits swapped) that the second "
                + "computation corrects with probability %.2f, a right result that it confirms with probability %.2f. "
                + "Training set: %s.%n%n", t.errorRate() + t.checkRate(), t.errorRate(), t.checkRate(), r.trainStats()));
        sb.append("Files `train.jsonl`, `support.jsonl` (").append(o.supportSize()).append(" problems) and `eval.jsonl` (")
                .append(o.evalSize()).append(" problems) hold the splits in GSM8K shape (`question`, `answer` ending in ")
                .append("`#### N`); no question occurs in two splits. Support and eval answers are clean solutions.\n\n");
        sb.append("## Model\n\n");
        sb.append(String.format(Locale.ROOT, "- Llama architecture (RMSNorm, RoPE theta 10000, SwiGLU, grouped-query attention), "
                + "untied LM head%n- hidden %d, %d layers, %d query heads and %d key/value heads of width %d, MLP %d, "
                + "context %d%n- %,d parameters, `model.safetensors` %s, %.1f MB%n", m.hidden(), m.layers(), m.heads(),
                m.kvHeads(), m.headDim(), m.intermediate(), m.context(), r.parameters(), o.dtype(), weightBytes / 1e6));
        sb.append("- tokenizer: one token per character (newline and printable ASCII) as a Hugging Face BPE model without ")
                .append("merges, plus `<|endoftext|>` (0), `<|im_start|>` (1), `<|im_end|>` (2); ")
                .append(CharVocabulary.size()).append(" ids, embedding padded to ").append(m.vocab()).append(" rows\n");
        sb.append("- chat template: ChatML (`<|im_start|>user\\n...<|im_end|>\\n<|im_start|>assistant\\n`); generation ")
                .append("stops at `<|im_end|>`\n\n");
        sb.append("## Training\n\n");
        sb.append("```\n").append(command).append("\n```\n\n");
        Trainer.Result tr = r.training();
        List<Trainer.Progress> curve = tr.curve();
        sb.append(String.format(Locale.ROOT, "- seed %d (data, initialization, data order, sampling)%n"
                        + "- %d steps of %d examples (%d training examples, each seen %s), %,d tokens%n"
                        + "- AdamW (beta 0.9/0.95, eps 1e-8, weight decay %.2g on projection matrices and the LM head, none on "
                        + "norms and embeddings), peak learning rate %.2g after %d warmup steps, cosine to %.2g, gradient "
                        + "norm clipped at %.2g%n- loss: mean negative log-likelihood per reply token (prompt tokens are "
                        + "conditioning only)%n- trained with ipg's own reverse mode at %,.0f tokens/s; wall time of the whole build "
                        + "(data, training, evaluation) %s on %s%n- the build is deterministic for a given kernel implementation "
                        + "and does not depend on the thread count; other kernels round differently and give a slightly "
                        + "different model%n%n",
                o.seed(), o.steps(), o.batchSize(), o.examples(),
                o.trainSize() == 0 ? "once" : String.format(Locale.ROOT, "%.1f times", (double) o.steps() * o.batchSize() / o.examples()),
                tr.tokens(), o.weightDecay(), o.peakLr(), o.warmup(), o.minLr(), o.clipNorm(),
                curve.isEmpty() ? 0.0 : curve.getLast().tokensPerSecond(), duration(r.wallSeconds()),
                r.machine()));
        sb.append("| step | train loss | held-out loss | greedy accuracy (probe) |\n|---:|---:|---:|---:|\n");
        for (Trainer.Evaluation e : tr.evaluations()) {
            Trainer.Progress p = null;
            for (Trainer.Progress c : curve) {
                if (c.step() <= e.step()) {
                    p = c;
                }
            }
            Double acc = e.metrics().get("greedy_accuracy");
            sb.append(String.format(Locale.ROOT, "| %d | %s | %.4f | %s |%n", e.step(),
                    p == null ? "" : String.format(Locale.ROOT, "%.4f", p.loss()), e.heldOutLoss(),
                    acc == null ? "" : String.format(Locale.ROOT, "%.1f %%", 100 * acc)));
        }
        sb.append(String.format(Locale.ROOT, "%nThe probe is the first %d eval problems, greedy.%n%n", o.probeSize()));
        sb.append("## Accuracy on eval.jsonl\n\n");
        sb.append("| decoding | accuracy | 95 % interval | mean tokens | reflections per answer |\n|---|---:|---:|---:|---:|\n");
        row(sb, "greedy", r.greedy());
        row(sb, String.format(Locale.ROOT, "sampled, temperature %.2g, seed %d", o.temperature(), o.seed()), r.sampled());
        sb.append(String.format(Locale.ROOT, "%nGreedy, first %d eval problems: %d/%d (a fixed slice the tests check).%n",
                SLICE, r.greedy().correctAmongFirst(SLICE), Math.min(SLICE, r.greedy().total())));
        sb.append("\nMeasured on the model as loaded back from these files. The answer is the number after `####`, ")
                .append("compared by the same code that scores GSM8K. Reflections counts \"wait\", \"but\", \"double-check\" ")
                .append("and \"hmm\" as whole words.\n\n");
        sb.append("## Use\n\n```\nipg generate -m DIR --chat -p \"Start with 23, add 9, times 2, minus 17.\"\n```\n");
        return sb.toString();
    }

    private static void row(StringBuilder sb, String name, DemoEval.Result r) {
        Wilson w = Wilson.of(r.correct(), r.total());
        sb.append(String.format(Locale.ROOT, "| %s | %.1f %% (%d/%d) | %.1f-%.1f %% | %.1f | %.3f |%n", name,
                100 * r.accuracy(), r.correct(), r.total(), 100 * w.lower(), 100 * w.upper(), r.meanTokens(), r.reflections()));
    }

    static String duration(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format(Locale.ROOT, "%dh %02dm %02ds", t / 3600, t / 60 % 60, t % 60)
                : t >= 60 ? String.format(Locale.ROOT, "%dm %02ds", t / 60, t % 60) : t + " s";
    }
}
