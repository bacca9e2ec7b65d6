package dev.ipg.core.attribution.baselines;

import dev.ipg.core.attribution.AttributionRun;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.run.ScaleOut;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.Serializable;

/**
 * Where the items of the runs a command starts are computed: here, or on the executors of a
 * {@link ScaleOut}. The runs themselves stay on the driver (lock, configuration, resume, every
 * file); an executor gets a run's recipe ({@link EvalRun.Recipe}, {@link AttributionRun.Recipe})
 * and an item, rebuilds the run on what it opened once per JVM, and returns the item's result.
 */
public interface Offload {

    /** Everything is computed here. */
    Offload HERE = new Offload() {
        @Override
        public EvalRun.Remote eval(EvalRun run, int limit) {
            return null;
        }

        @Override
        public AttributionRun.Remote attribution(AttributionRun run, int limit) {
            return null;
        }
    };

    /** How {@code run} of the first {@code limit} problems computes its missing blocks; null: here. */
    EvalRun.Remote eval(EvalRun run, int limit);

    /** How {@code run} of the first {@code limit} problems computes its missing prompts; null: here. */
    AttributionRun.Remote attribution(AttributionRun run, int limit);

    /**
     * What an executor opened (once per JVM) for the runs of a command. Items computed in the same
     * JVM take turns on it (they synchronize on it).
     */
    interface Opened {
        Transformer model();

        Tokenizer tok();

        /** The signal of {@code spec}, opened once. */
        Signal signal(String spec);

        /** The command's SAE at {@code site}, opened once; null for a null site. */
        Sae sae(Site site);
    }

    /** Opens (or finds) on an executor what it needs: shipped with every item. */
    @FunctionalInterface
    interface Opener extends Serializable {
        Opened open();
    }

    /**
     * The items on {@code cluster}, each executor opening what it needs with {@code opener}; an
     * evaluation whose steering cannot travel (an SAE's) is computed here.
     */
    static Offload on(ScaleOut cluster, Opener opener) {
        return new Offload() {
            @Override
            public EvalRun.Remote eval(EvalRun run, int limit) {
                EvalRun.Recipe recipe = run.recipe();
                if (recipe == null) {
                    return null;
                }
                return (blocks, done) -> cluster.run(blocks, b -> {
                    Opened o = opener.open();
                    synchronized (o) {
                        return recipe.open(o.model(), o.tok()).computeBlock(limit, b);
                    }
                }, done);
            }

            @Override
            public AttributionRun.Remote attribution(AttributionRun run, int limit) {
                AttributionRun.Recipe recipe = run.recipe();
                return (missing, baselines, done) -> cluster.run(missing, i -> {
                    Opened o = opener.open();
                    synchronized (o) {
                        return recipe.open(o.model(), o.tok(), o.signal(recipe.spec().signalSpec()), o.sae(recipe.saeSite()))
                                .computePrompt(limit, i, baselines);
                    }
                }, done);
            }
        };
    }
}
