package dev.ipg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The progress renderer in both modes, on a simulated clock. */
class ProgressBarTest {

    /** A clock the test moves by hand. */
    static final class Clock {
        long nanos;

        void seconds(double s) {
            nanos += (long) (s * 1e9);
        }
    }

    @Test
    void logModeWritesABoundedNumberOfPlainLinesWithEta() {
        StringWriter sw = new StringWriter();
        Clock c = new Clock();
        ProgressBar bar = new ProgressBar(new PrintWriter(sw), false, () -> c.nanos, 15_000_000_000L);
        bar.start("problems", 6000, 0);
        for (int i = 0; i < 6000; i++) {
            c.seconds(0.01); // 60 s in all: fast units
            bar.advance("accuracy so far " + i);
        }
        String log = sw.toString();
        assertFalse(log.contains("\r"), "no carriage returns in a log");
        List<String> lines = log.lines().toList();
        // start, one per 15 s of the 60 s, the end: at most 2 + 60 / 15 lines, never one per unit
        assertTrue(lines.size() >= 3 && lines.size() <= 6, lines.size() + " lines:\n" + log);
        assertTrue(lines.getFirst().startsWith("problems 0/6000 (0%)  elapsed 00:00  eta --:--"), lines.getFirst());
        assertEquals("problems 6000/6000 (100%)  elapsed 01:00  eta done  accuracy so far 5999", lines.getLast());
        // a middle line carries a real ETA: 1500 done after 15 s, 4500 to go at the same rate = 45 s
        assertTrue(lines.get(1).startsWith("problems 1500/6000 (25%)  elapsed 00:15  eta 00:45"), lines.get(1));
    }

    @Test
    void logModeWritesOneLinePerSlowUnit() {
        StringWriter sw = new StringWriter();
        Clock c = new Clock();
        ProgressBar bar = new ProgressBar(new PrintWriter(sw), false, () -> c.nanos, 15_000_000_000L);
        bar.start("prompts", 4, 0);
        for (int i = 0; i < 4; i++) {
            c.seconds(40);
            bar.advance("");
        }
        bar.message("a note");
        List<String> lines = sw.toString().lines().toList();
        assertEquals(List.of("prompts 0/4 (0%)  elapsed 00:00  eta --:--", "prompts 1/4 (25%)  elapsed 00:40  eta 02:00",
                "prompts 2/4 (50%)  elapsed 01:20  eta 01:20", "prompts 3/4 (75%)  elapsed 02:00  eta 00:40",
                "prompts 4/4 (100%)  elapsed 02:40  eta done", "[a note]"), lines);
    }

    @Test
    void terminalModeRedrawsInPlaceAtABoundedRateAndEndsTheLine() {
        StringWriter sw = new StringWriter();
        Clock c = new Clock();
        ProgressBar bar = new ProgressBar(new PrintWriter(sw), true, () -> c.nanos, 15_000_000_000L);
        bar.start("prompts", 1000, 0);
        for (int i = 0; i < 1000; i++) {
            c.seconds(0.001); // 1 s in all
            bar.advance("");
            if (i == 499) {
                bar.message("half way");
            }
        }
        String out = sw.toString();
        long redraws = out.chars().filter(ch -> ch == '\r').count();
        // the start, about ten a second, the message's clear and redraw, the end
        assertTrue(redraws >= 5 && redraws <= 20, redraws + " redraws");
        assertTrue(out.startsWith("\r\033[Kprompts [------------------------] 0/1000 (0%)"), out);
        assertTrue(out.contains("\r\033[K[half way]\n\r\033[Kprompts [############------------] 500/1000 (50%)"), out);
        assertTrue(out.endsWith("\r\033[Kprompts [########################] 1000/1000 (100%)  elapsed 00:01  eta done\n"), out);
        assertEquals(2, out.chars().filter(ch -> ch == '\n').count(), "only the message and the finished bar end lines");
    }

    @Test
    void resumedWorkSaysSoAndEstimatesFromTheFreshUnitsOnly() {
        StringWriter sw = new StringWriter();
        Clock c = new Clock();
        ProgressBar bar = new ProgressBar(new PrintWriter(sw), false, () -> c.nanos, 1);
        bar.start("prompts", 10, 6);
        c.seconds(10);
        bar.advance("");
        List<String> lines = sw.toString().lines().toList();
        assertEquals("[resuming: 6 of 10 prompts already done]", lines.getFirst());
        assertEquals("prompts 7/10 (70%)  elapsed 00:10  eta 00:30", lines.getLast());
    }
}
