package dev.ipg.cli;

import dev.ipg.core.run.ProgressListener;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Progress of a long command on stderr, with elapsed time and ETA, in one of two modes:
 *
 * <ul>
 *   <li>terminal: one bar redrawn in place ({@code \r}, at most {@value #REDRAWS_PER_SECOND} times a
 *       second), messages printed above it, a newline when the work is done;
 *   <li>log (stderr is a file or a pipe): plain lines, one when the work starts, then one after a
 *       unit of work finishes once at least {@link #LOG_INTERVAL_SECONDS} seconds have passed since the
 *       last line (so one per unit when units are slow, a few per minute when they are fast), and one
 *       when it ends.
 * </ul>
 *
 * Whether stderr is a terminal is decided by the launcher, which passes {@code -Dipg.stderr=tty}
 * or {@code -Dipg.stderr=log} (Java cannot test stderr itself); without it, the JVM's console
 * decides. {@code IPG_PROGRESS=log} or {@code CI} in the environment force log mode. Every long
 * command reports through this class: give the library an instance as its {@link ProgressListener},
 * or drive it with {@link #start}, {@link #advanceTo} and {@link #message}.
 */
final class ProgressBar implements ProgressListener {

    /** Minimum seconds between two log-mode lines (units finishing faster are summarized). */
    static final long LOG_INTERVAL_SECONDS = 15;

    static final int REDRAWS_PER_SECOND = 10;

    private static final int WIDTH = 24;

    private final PrintWriter err;
    private final boolean terminal;
    private final LongSupplier clock;
    private final long logInterval;
    private String what = "";
    private long total;
    private long done;
    private long startDone;
    private long t0;
    private long lastDraw;
    private boolean open;
    private String note = "";

    /** A bar on {@code err}, in the mode the environment calls for. */
    /** Where the bar writes (standard error of the command). */
    PrintWriter err() {
        return err;
    }

    ProgressBar(PrintWriter err) {
        this(err, stderrIsTerminal(), System::nanoTime, LOG_INTERVAL_SECONDS * 1_000_000_000L);
    }

    /**
     * A bar with an explicit mode and clock (tests).
     *
     * @param terminal         redraw in place (true) or write log lines (false)
     * @param clock            nanoseconds, monotonic
     * @param logIntervalNanos minimum time between two log lines
     */
    ProgressBar(PrintWriter err, boolean terminal, LongSupplier clock, long logIntervalNanos) {
        this.err = err;
        this.terminal = terminal;
        this.clock = clock;
        this.logInterval = logIntervalNanos;
    }

    /** Whether stderr is a terminal: the launcher's {@code ipg.stderr}, else the JVM's console. */
    static boolean stderrIsTerminal() {
        if ("log".equalsIgnoreCase(System.getenv("IPG_PROGRESS")) || System.getenv("CI") != null) {
            return false;
        }
        String s = System.getProperty("ipg.stderr");
        if (s != null) {
            return s.equalsIgnoreCase("tty");
        }
        var c = System.console();
        return c != null && c.isTerminal();
    }

    /** Whether this bar redraws in place. */
    boolean terminal() {
        return terminal;
    }

    @Override
    public synchronized void start(String what, long total, long done) {
        closeLine();
        this.what = what;
        this.total = total;
        this.done = done;
        this.startDone = done;
        this.t0 = clock.getAsLong();
        this.note = "";
        if (done > 0) {
            err.printf(Locale.ROOT, "[resuming: %d of %d %s already done]%n", done, total, what);
        }
        draw(true);
    }

    @Override
    public void advance(String note) {
        long next;
        synchronized (this) {
            next = done + 1;
        }
        advanceTo(next, note);
    }

    /** {@code done} units of the current work are finished; {@code note} is a short status (may be empty). */
    synchronized void advanceTo(long done, String note) {
        this.done = done;
        this.note = note == null ? "" : note;
        draw(done >= total);
    }

    @Override
    public synchronized void message(String text) {
        closeLine();
        err.println("[" + text + "]");
        if (terminal && total > 0 && done < total) {
            draw(true);
        } else {
            err.flush();
        }
    }

    /** Ends the bar's line on a terminal (before other output). */
    synchronized void closeLine() {
        if (open) {
            err.print("\r\033[K");
            err.flush();
            open = false;
        }
    }

    private void draw(boolean force) {
        long now = clock.getAsLong();
        boolean finished = total > 0 && done >= total;
        if (terminal) {
            if (!force && !finished && now - lastDraw < 1_000_000_000L / REDRAWS_PER_SECOND) {
                return;
            }
            err.print("\r\033[K" + line(now, true));
            open = true;
            if (finished) {
                err.println();
                open = false;
            }
        } else {
            boolean first = done == startDone;
            if (!force && !finished && !first && now - lastDraw < logInterval) {
                return;
            }
            err.println(line(now, false));
        }
        lastDraw = now;
        err.flush();
    }

    /** The status line at time {@code now}: what, count, percent, elapsed, ETA and the note. */
    String line(long now, boolean bar) {
        double secs = (now - t0) / 1e9;
        long fresh = done - startDone;
        String eta = total > 0 && done >= total ? "done" : fresh <= 0 || total <= 0 ? "--:--" : clock(secs / fresh * (total - done));
        String graphic = "";
        if (bar) {
            int fill = total <= 0 ? 0 : (int) Math.min(WIDTH, WIDTH * done / total);
            graphic = "[" + "#".repeat(fill) + "-".repeat(WIDTH - fill) + "] ";
        }
        String pct = total > 0 ? String.format(Locale.ROOT, " (%d%%)", 100 * done / total) : "";
        return String.format(Locale.ROOT, "%s %s%d/%d%s  elapsed %s  eta %s%s", what, graphic, done, total, pct, clock(secs), eta,
                note.isEmpty() ? "" : "  " + note);
    }

    static String clock(double secs) {
        long s = Math.round(secs);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
    }
}
