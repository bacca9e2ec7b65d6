package dev.ipg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command's --help: printed cleanly, with real metavars. */
class HelpTest {

    /** picocli's fallback metavar, the field name in angle brackets: {@code --steps=<steps>}. */
    static final Pattern PLACEHOLDER = Pattern.compile("[=\\s]<[a-zA-Z]+>");

    static List<String> commands() {
        List<String> names = new ArrayList<>();
        new CommandLine(new Main()).getSubcommands().forEach((name, c) -> {
            if (!name.equals("help")) {
                names.add(name);
                // nested commands such as "sae train"
                c.getSubcommands().keySet().forEach(sub -> names.add(name + " " + sub));
            }
        });
        return names;
    }

    @Test
    void everyCommandPrintsItsHelpWithoutWarningsOrPlaceholderMetavars() {
        List<String> cmds = commands();
        assertTrue(cmds.size() >= 12 && cmds.contains("attribute") && cmds.contains("train-demo"), cmds.toString());
        List<String[]> all = new ArrayList<>();
        all.add(new String[] {"--help"});
        for (String c : cmds) {
            List<String> a = new ArrayList<>(List.of(c.split(" ")));
            a.add("--help");
            all.add(a.toArray(String[]::new));
        }
        for (String[] args : all) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            // picocli reports a description it cannot format on System.err, not on the command's writer
            PrintStream stderr = System.err;
            ByteArrayOutputStream traced = new ByteArrayOutputStream();
            int code;
            try {
                System.setErr(new PrintStream(traced, true, StandardCharsets.UTF_8));
                code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
            } finally {
                System.setErr(stderr);
            }
            String what = String.join(" ", args);
            assertEquals("", traced.toString(StandardCharsets.UTF_8), what + " printed on System.err");
            assertEquals(0, code, what + ": " + err);
            assertTrue(out.toString().startsWith("Usage: ipg"), what + ": " + out);
            assertEquals("", err.toString(), what + " wrote to stderr");
            assertFalse(out.toString().contains("WARN"), what + ": " + out);
            Matcher m = PLACEHOLDER.matcher(out.toString());
            assertFalse(m.find(), what + ": placeholder metavar " + (m.hitEnd() ? "" : m.group()) + " in\n" + out);
        }
    }

    @Test
    void helpNamesWhatTheReadmeNames() {
        StringWriter out = new StringWriter();
        Main.run(new String[] {"attribute", "--help"}, new PrintWriter(out, true), new PrintWriter(new StringWriter(), true));
        assertTrue(out.toString().contains("reward-model:DIR"), out.toString());
        out = new StringWriter();
        Main.run(new String[] {"train-demo", "--help"}, new PrintWriter(out, true), new PrintWriter(new StringWriter(), true));
        for (String d : List.of("Optimizer steps (default: 2000)", "(default: 1234)", "Hidden size (default: 128)", "(default: F32)")) {
            assertTrue(out.toString().replaceAll("\\s+", " ").contains(d), d + " not in\n" + out);
        }
    }
}
