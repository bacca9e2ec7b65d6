package dev.ipg.core.model;

/**
 * What a forward pass recorded for the reverse mode: each {@link Block}'s own record for blocks
 * {@code fromLayer} and above (all blocks when weight gradients are wanted), read only by that
 * block's {@link Block#backward}, and the batch the pass ran over. Pass one to
 * {@link Transformer#forwardHidden}, then run the blocks' backwards top to bottom.
 */
public final class Tape {

    private final int fromLayer;
    private final boolean weights;
    private final Block.Saved[] saved;
    private Batch batch;

    /** A tape for blocks {@code fromLayer..} of a model with {@code numLayers} blocks (all of them for weights). */
    public Tape(int numLayers, int fromLayer, boolean weights) {
        this.fromLayer = weights ? 0 : fromLayer;
        this.weights = weights;
        this.saved = new Block.Saved[numLayers];
    }

    /** The first block recorded. */
    public int fromLayer() {
        return fromLayer;
    }

    /** Whether weight gradients will be taken (everything is recorded). */
    public boolean weights() {
        return weights;
    }

    /** The batch of the recorded pass (null before the pass). */
    public Batch batch() {
        return batch;
    }

    /** A fresh record for block l, or null when block l is not recorded. */
    Block.Saved start(int l) {
        if (l < fromLayer) {
            return null;
        }
        saved[l] = new Block.Saved(weights);
        return saved[l];
    }

    /** Block l's record (null when not recorded). */
    Block.Saved saved(int l) {
        return saved[l];
    }

    void finish(Batch b) {
        this.batch = b;
    }
}
