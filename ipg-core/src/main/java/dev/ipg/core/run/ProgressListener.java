package dev.ipg.core.run;

/** Receives progress of a long run; the library never prints. */
public interface ProgressListener {

    /** The run starts with {@code done} of {@code total} units of work already finished (resumed). */
    default void start(String what, long total, long done) {
    }

    /** One more unit finished; {@code note} is a short status such as the last prompt's rewards. */
    default void advance(String note) {
    }

    /** A one-line message (plans, warnings). */
    default void message(String text) {
    }

    /** Nothing reported. */
    ProgressListener NONE = new ProgressListener() {
    };
}
