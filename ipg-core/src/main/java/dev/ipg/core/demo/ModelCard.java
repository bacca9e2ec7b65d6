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
        Planted pl = o.planted();
        if (pl != null) {
            sb.append("# ipg planted-mechanism testbed\n\n");
            sb.append("A tiny Llama trained from scratch by `ipg train-demo --recipe planted` on a synthetic multi-step ")
                    .append("arithmetic task whose re-check decision follows a known rule, with a **planted mechanism**: a ")
                    .append("designated set of MLP neurons made, by a counterfactual term of the training objective, to carry ")
                    .append("that decision (InterpBench-style ground truth for attribution methods). Unlike the demo model it ")
                    .append("reflects under greedy decoding, its answers vary in length, and its greedy accuracy leaves headroom. ")
                    .append("It is a Hugging Face model directory and loads like any downloaded checkpoint.\n\n");
        } else {
            sb.append("# ipg demo reasoning model\n\n");
        }
        if (pl == null) {
            sb.append("A tiny Llama trained from scratch by `ipg train-demo` on a synthetic multi-step arithmetic task, ")
                .append("so that Integrated Policy Gradient can be tried end to end on a laptop: its answers depend on a chain ")
                .append("of written steps, and it sometimes reflects (\"wait, ...\") to re-check or correct a step, so ")
                .append("accuracy, length and reflection vary from sample to sample. It is a Hugging Face model directory and ")
                .append("loads like any downloaded checkpoint.\n\n");
        }
        sb.append("## Task\n\n");
        sb.append("Start from a number and apply ").append(t.minSteps()).append(" to ").append(t.maxSteps())
                .append(" operations in order (add or subtract 2..").append(t.maxOperand()).append(", multiply by 2..")
                .append(t.maxFactor()).append("); every intermediate value stays in 0..").append(t.maxValue())
                .append(". The model writes one step per operation and ends with a GSM8K-style answer line.\n\n");
        sb.append("```\nuser:      ").append(ex.question()).append("\nassistant: ")
                .append(sol.text().replace("\n", "\n           ")).append("\n```\n\n");
        if (t.ruleBased()) {
            sb.append(String.format(Locale.ROOT, "In the training solutions, a step whose result is %d or more is always "
                    + "re-checked: its first result is followed by \"wait,\" and the step computed again; that first result is "
                    + "a slip (off by 1, 2 or 10, or digits swapped) with probability %.2f, which the re-check corrects. Every "
                    + "other step is never re-checked. Training set: %s.%n%n", t.recheckFrom(), t.errorRate(), r.trainStats()));
        } else {
            sb.append(String.format(Locale.ROOT, "In the training solutions, each step is followed by \"wait,\" and a second "
                    + "computation with probability %.2f: a slip (off by 1, 2 or 10, or digits swapped) that the second "
                    + "computation corrects with probability %.2f, a right result that it confirms with probability %.2f. "
                    + "Training set: %s.%n%n", t.errorRate() + t.checkRate(), t.errorRate(), t.checkRate(), r.trainStats()));
        }
        sb.append("Files `train.jsonl`, `support.jsonl` (").append(o.supportSize()).append(" problems) and `eval.jsonl` (")
                .append(o.evalSize()).append(" problems) hold the splits in GSM8K shape (`question`, `answer` ending in ")
                .append("`#### N`); no question occurs in two splits. Support and eval answers are clean solutions.\n\n");
        if (pl != null) {
            sb.append("`dev.jsonl` (").append(o.supportSize()).append(" problems) is the dev split of `ipg compare --dev`: ")
                    .append("clean solutions from the fourth random stream of the seed, sharing no question with the other ")
                    .append("splits (`DemoData.dev`).\n\n");
            plantedSection(sb, o, r);
        }
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
        int trained = curve.isEmpty() ? o.steps() : curve.getLast().step();
        if (pl != null && pl.stopAt() > 0) {
            sb.append(String.format(Locale.ROOT, "- early stopping: training ends after the first held-out evaluation (every "
                    + "%d steps) whose greedy probe accuracy is at least %.0f %%; the learning-rate schedule is that of %d "
                    + "steps; this build stopped after step %d%n", o.evalEvery(), 100 * pl.stopAt(), o.steps(), trained));
            sb.append(String.format(Locale.ROOT, "- planted term: for the first %d examples of every batch, the model with the "
                    + "planted neurons zeroed is also trained on the same problem's solution without re-checks (the loss "
                    + "is the mean over the scored tokens of both)%n", pl.perBatch()));
        }
        sb.append(String.format(Locale.ROOT, "- seed %d (data, initialization, data order, sampling)%n"
                        + "- %d steps of %d examples (%d training examples, each seen %s), %,d tokens%n"
                        + "- AdamW (beta 0.9/0.95, eps 1e-8, weight decay %.2g on projection matrices and the LM head, none on "
                        + "norms and embeddings), peak learning rate %.2g after %d warmup steps, cosine to %.2g, gradient "
                        + "norm clipped at %.2g%n- loss: mean negative log-likelihood per reply token (prompt tokens are "
                        + "conditioning only)%n- trained with ipg's own reverse mode at %,.0f tokens/s; wall time of the whole build "
                        + "(data, training, evaluation) %s on %s%n- the build is deterministic for a given kernel implementation "
                        + "and does not depend on the thread count; other kernels round differently and give a slightly "
                        + "different model%n%n",
                o.seed(), trained, o.batchSize(), o.examples(),
                trained < o.steps() ? String.format(Locale.ROOT, "at most once: %d of them seen", (long) trained * o.batchSize())
                        : o.trainSize() == 0 ? "once" : String.format(Locale.ROOT, "%.1f times", (double) o.steps() * o.batchSize() / o.examples()),
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

    private static void plantedSection(StringBuilder sb, DemoRecipe.Options o, DemoRecipe.Report r) {
        Planted pl = o.planted();
        DemoRecipe.PlantedCheck c = r.planted();
        sb.append("## Planted mechanism\n\n");
        sb.append(String.format(Locale.ROOT, "- site: `%s` (%d neurons)%n- planted neurons (%d): `%s`%n- carries: the %s "
                        + "(a step whose result is %d or more is re-checked)%n- how: `%s` columns zeroed = those neurons "
                        + "ablated; with them ablated the model is trained on the same problems' solutions without re-checks, "
                        + "intact on the solutions with them%n- machine-readable: `%s` (site, indices)%n%n",
                pl.site(), o.model().intermediate(), c.indices().length, java.util.Arrays.toString(c.indices()),
                Planted.CARRIES, o.task().recheckFrom(), pl.tensor(), Planted.FILE));
        sb.append(String.format(Locale.ROOT, "Causal check, greedy, the first %d eval problems (reflections: \"wait\" and "
                + "the other reflection words per answer):%n%n", c.intact().total()));
        sb.append("| model | accuracy | mean tokens | reflections per answer |\n|---|---:|---:|---:|\n");
        checkRow(sb, "intact", c.intact());
        checkRow(sb, "planted " + c.indices().length + " ablated", c.ablated());
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        double sum = 0;
        double acc = 0;
        double tok = 0;
        for (DemoEval.Result x : c.random()) {
            lo = Math.min(lo, x.reflections());
            hi = Math.max(hi, x.reflections());
            sum += x.reflections();
            acc += x.accuracy();
            tok += x.meanTokens();
        }
        int n = c.random().size();
        sb.append(String.format(Locale.ROOT, "| %d random sets of %d ablated (mean; reflections range) | %.1f %% | %.1f | %.3f (%.3f-%.3f) |%n%n",
                n, c.indices().length, 100 * acc / n, tok / n, sum / n, lo, hi));
    }

    private static void checkRow(StringBuilder sb, String name, DemoEval.Result x) {
        sb.append(String.format(Locale.ROOT, "| %s | %.1f %% (%d/%d) | %.1f | %.3f |%n", name, 100 * x.accuracy(), x.correct(),
                x.total(), x.meanTokens(), x.reflections()));
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
