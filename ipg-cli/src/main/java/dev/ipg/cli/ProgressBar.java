package dev.ipg.cli;

import dev.ipg.core.attribution.ProgressListener;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * A progress bar with rate and ETA on stderr: redrawn in place on a terminal, one line per
 * unit otherwise (logs, CI).
 */
final class ProgressBar implements ProgressListener {

    private final PrintWriter err;
    private final boolean tty;
    private String what = "";
    private long total;
    private long done;
    private long startDone;
    private long t0;

    ProgressBar(PrintWriter err) {
        this.err = err;
        this.tty = System.console() != null && System.getenv("CI") == null;
    }

    @Override
    public void start(String what, long total, long done) {
        this.what = what;
        this.total = total;
        this.done = done;
        this.startDone = done;
        this.t0 = System.nanoTime();
        if (done > 0) {
            err.printf(Locale.ROOT, "[resuming: %d of %d %s already done]%n", done, total, what);
        }
        draw("");
    }

    @Override
    public void advance(String note) {
        done++;
        draw(note);
    }

    @Override
    public void message(String text) {
        if (tty) {
            err.print("\r\033[K");
        }
        err.println("[" + text + "]");
        err.flush();
    }

    private void draw(String note) {
        double secs = (System.nanoTime() - t0) / 1e9;
        long fresh = done - startDone;
        String eta = fresh == 0 ? "--:--" : clock(secs / fresh * (total - done));
        int width = 24;
        int fill = total == 0 ? width : (int) (width * done / total);
        String bar = "#".repeat(fill) + "-".repeat(width - fill);
        String line = String.format(Locale.ROOT, "%s [%s] %d/%d %s  elapsed %s  eta %s%s", what, bar, done, total, what,
                clock(secs), eta, note.isEmpty() ? "" : "  " + note);
        if (tty) {
            err.print("\r\033[K" + line);
            if (done == total) {
                err.println();
            }
        } else {
            err.println(line);
        }
        err.flush();
    }

    static String clock(double secs) {
        long s = Math.round(secs);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
    }
}
