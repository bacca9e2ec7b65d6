package dev.ipg.core.model;

import dev.ipg.core.IpgException;
import java.util.Optional;

/**
 * The one-line error for a forward or backward pass that produced a NaN or an infinity: which
 * tensor holds a non-finite weight (a full scan, run only after the cheap check of the pass has
 * failed), or else where in the model the values overflowed.
 */
final class Diagnosis {

    private final Transformer model;

    Diagnosis(Transformer model) {
        this.model = model;
    }

    /** "position 3 of sequence 0" for row {@code r} of {@code b}. */
    static String where(Batch b, int r) {
        return "position " + b.pos()[r] + " of sequence " + b.seq()[r];
    }

    /** The non-finite weight, if any, as the start of a message. */
    private Optional<String> badWeight() {
        return model.weights().firstNonFinite().map(e -> model.weights().source() + ": tensor " + e.tensor()
                + " holds " + NonFinite.name(e.value()) + " at [" + e.row() + ", " + e.col() + "]");
    }

    /** The residual stream leaving the last block of a forward pass over {@code b} is non-finite. */
    IpgException residual(Batch b, KVCache cache, Hooks hooks, float[] x) {
        int d = model.config().hiddenSize();
        int i = NonFinite.first(x, 0, x.length);
        String seen = "the residual stream at " + where(b, i / d) + " is " + NonFinite.name(x[i]);
        Optional<String> w = badWeight();
        if (w.isPresent()) {
            return new IpgException(w.get() + ", so " + seen);
        }
        Transformer.Located at = model.locate(b, cache, hooks);
        String src = model.weights().source();
        if (at == null) {
            return new IpgException(src + ": the forward pass produced non-finite values (" + seen
                    + ") although every weight is finite");
        }
        String value = NonFinite.name(at.value()) + " at " + where(b, at.row()) + " (component " + at.component() + ")";
        if (at.site() == null) {
            return new IpgException(src + ": the token embedding is " + value);
        }
        Site s = at.site();
        String cause = switch (s.kind()) {
            case RESID_PRE -> "the residual stream entering block " + s.layer();
            case ATTN_Z -> "the attention of block " + s.layer() + " (its norm, query/key/value projections or scores)";
            case RESID_MID -> "the attention output projection of block " + s.layer();
            case MLP_POST -> "the MLP of block " + s.layer() + " (its norm, input projections or activation)";
            case RESID_POST, MLP_OUT -> "the MLP output projection of block " + s.layer();
            case ATTN_Q, ATTN_K, ATTN_V -> "the query/key/value projections of block " + s.layer() + " (or its norm)";
            case ATTN_OUT -> "the attention output projection of block " + s.layer();
            case ATTN_HEADS, ATTN_PATTERN -> "the attention of block " + s.layer();
            case EMBED, POS_EMBED -> "the embedding";
            case LN_FINAL -> "the final norm";
        };
        String hook = hooks.intervenesAt(s) ? " (or the interventions at " + s + ")" : "";
        return new IpgException(src + ": " + s + " is " + value + ", the first non-finite value of the pass: " + cause
                + hook + " overflows the float range (every weight is finite)");
    }

    /** Logit {@code token} of row {@code r} of {@code b} is {@code value}, while the residual stream is finite. */
    IpgException logits(Batch b, int r, int token, float value) {
        String seen = "the logit of token " + token + " at " + where(b, r) + " is " + NonFinite.name(value);
        return new IpgException(badWeight().map(w -> w + ", so " + seen).orElse(model.weights().source() + ": " + seen
                + ": the final norm or the output head overflows the float range (every weight is finite)"));
    }

    /** A value of the reverse mode ({@code what}, e.g. a log-probability or a gradient) is non-finite. */
    static IpgException reverse(Transformer model, String what) {
        Diagnosis d = new Diagnosis(model);
        return new IpgException(d.badWeight().map(w -> w + ", so " + what).orElse(model.weights().source() + ": " + what
                + " (every weight is finite, so a value overflows the float range)"));
    }
}
