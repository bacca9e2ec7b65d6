package dev.ipg.cli;

import static dev.ipg.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.attribution.Advantage;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.attribution.Quadrature;
import dev.ipg.core.compare.Comparison;
import dev.ipg.core.steer.Rank;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The shared options: one default each, typed enums with today's spellings, and a bad value refused in one line. */
class OptionsTest {

    static final String[] ATTRIBUTE = {"attribute", "-m", "M", "--dataset", "D.jsonl", "--site", "blocks.0.hook_resid_post",
        "--signal", "correct", "-o", "OUT"};

    static final String[] COMPARE = {"compare", "-m", "M", "--support", "S.jsonl", "--eval", "E.jsonl", "--site",
        "blocks.0.hook_resid_post", "-o", "OUT"};

    /** The command object picocli fills from {@code args} (nothing runs). */
    @SuppressWarnings("unchecked")
    static <T> T parse(String[] args, String... more) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of(more));
        CommandLine.ParseResult r = new CommandLine(new Main()).parseArgs(all.toArray(String[]::new));
        while (r.hasSubcommand()) {
            r = r.subcommand();
        }
        return (T) r.commandSpec().userObject();
    }

    @Test
    void theEstimatorsCommandLineDefaultsAreTheLibrarysPaperDefaults() {
        AttributeCommand a = parse(ATTRIBUTE);
        IpgOptions cli = a.ipg.options(a.topK.topK, a.seed).withGradient(a.gradient.gradient);
        assertEquals(IpgOptions.paper(), cli);
        CompareCommand c = parse(COMPARE);
        assertEquals(IpgOptions.paper(), c.estimator.options(0, c.seed));
    }

    @Test
    void everySharedOptionHasOneDefaultAndTheDifferencesAreNamed() {
        CommandLine root = new CommandLine(new Main());
        Map<String, CommandLine> cmds = root.getSubcommands();
        java.util.function.BiFunction<String, String, String> dflt = (cmd, opt) -> {
            CommandLine c = cmds.get(cmd.split(" ")[0]);
            if (cmd.contains(" ")) {
                c = c.getSubcommands().get(cmd.split(" ")[1]);
            }
            var o = c.getCommandSpec().findOption(opt);
            assertTrue(o != null, cmd + " has no " + opt);
            return o.defaultValue();
        };
        for (String cmd : List.of("attribute", "compare", "eval", "steer", "generate", "baseline", "sae eval")) {
            assertEquals("512", dflt.apply(cmd, "--max-new-tokens"), cmd);
        }
        // SAE training: shorter completions, so that the rows come from more prompts (named, in its --help)
        assertEquals(SaeCommand.TRAINING_MAX_NEW_TOKENS, dflt.apply("sae train", "--max-new-tokens"));
        assertEquals("512", dflt.apply("compare", "--eval-max-new-tokens"));
        // the policy IPG differentiates is sampled; accuracy is measured greedily
        for (String cmd : List.of("attribute", "compare")) {
            assertEquals("0.6", dflt.apply(cmd, "--temperature"), cmd);
            assertEquals("0.8", dflt.apply(cmd, "--top-p"), cmd);
        }
        for (String cmd : List.of("eval", "steer", "sae eval")) {
            assertEquals("0", dflt.apply(cmd, "--temperature"), cmd);
        }
        assertEquals("0", dflt.apply("compare", "--eval-temperature"));
        for (String cmd : List.of("attribute", "compare", "baseline")) {
            assertEquals("10", dflt.apply(cmd, "--steps"), cmd);
            assertEquals("riemann-right", dflt.apply(cmd, "--quadrature"), cmd);
            assertEquals("5", dflt.apply(cmd, "--samples"), cmd);
            assertEquals("grpo", dflt.apply(cmd, "--advantage"), cmd);
            assertEquals("zero", dflt.apply(cmd, "--baseline"), cmd);
            assertEquals("all", dflt.apply(cmd, "--positions"), cmd);
        }
        assertEquals("10", dflt.apply("compare", "--ig-steps"));
        assertEquals("riemann-right", dflt.apply("compare", "--ig-quadrature"));
        // the chat options are one definition in every command that formats prompts
        for (String cmd : List.of("generate", "steer", "attribute", "eval", "compare", "baseline", "sae train", "sae eval")) {
            assertEquals(ChatOptions.class.getName(), ownerOf(cmds, cmd, "--chat"), cmd);
        }
    }

    private static String ownerOf(Map<String, CommandLine> cmds, String cmd, String opt) {
        CommandLine c = cmds.get(cmd.split(" ")[0]);
        if (cmd.contains(" ")) {
            c = c.getSubcommands().get(cmd.split(" ")[1]);
        }
        var o = c.getCommandSpec().findOption(opt);
        return o == null ? null : ((java.lang.reflect.Field) o.userObject()).getDeclaringClass().getName();
    }

    @Test
    void enumOptionsKeepTodaysSpellingsInAnyLetterCase() {
        AttributeCommand a = parse(ATTRIBUTE, "--advantage", "RLOO", "--baseline", "Mean", "--sampling", "reuse-WEIGHTED",
                "--positions", "generated", "--policy-gradient", "Truncated", "--quadrature", "gauss-legendre");
        assertEquals(Advantage.RLOO, a.ipg.group.advantage);
        assertEquals(IpgOptions.BaselineKind.MEAN, a.ipg.interpolation.baseline);
        assertEquals(IpgOptions.SamplingMode.REUSE_WEIGHTED, a.ipg.sampling.mode);
        assertEquals(IpgOptions.Positions.GENERATED, a.ipg.interpolation.positions);
        assertEquals(IpgOptions.PolicyGradient.TRUNCATED, a.gradient.gradient);
        assertEquals(Quadrature.GAUSS_LEGENDRE, a.ipg.path.quadrature);
        CompareCommand c = parse(COMPARE, "--top-count", "3", "--cv-mode", "SCALE", "--rank", "Abs", "--ig-quadrature", "midpoint");
        assertEquals(Comparison.CvMode.SCALE, c.cvMode);
        assertEquals(Rank.ABS, c.rank);
        assertEquals(Quadrature.MIDPOINT, c.igQuadrature);
        SteerCommand s = parse(new String[] {"steer", "-m", "M", "-p", "x"}, "--rank", "ABS");
        assertEquals(Rank.ABS, s.rank);
        SaeCommand.Train t = parse(new String[] {"sae", "train", "-m", "M", "--dataset", "D", "--site", "blocks.0.hook_resid_post",
            "-o", "O"}, "--format", "sparsify");
        assertEquals(SaeCommand.Format.SPARSIFY, t.format);
        DemoCommand d = parse(new String[] {"demo"}, "--testbed", "PLANTED");
        assertEquals(DemoCommand.Testbed.PLANTED, d.testbed);
    }

    @Test
    void aBadEnumValueIsOneLineNamingTheOptionTheValueAndTheSpellings() {
        List<String[]> cases = List.of(
                new String[] {"--advantage", "ppo", "'ppo'", "grpo, rloo"},
                new String[] {"--sampling", "reuse_weighted", "'reuse_weighted'", "on-path, reuse-weighted"},
                new String[] {"--positions", "prompt", "'prompt'", "all, generated"},
                new String[] {"--policy-gradient", "exact", "'exact'", "tempered, truncated"},
                // quadrature keeps its lowercase-only spellings
                new String[] {"--quadrature", "Midpoint", "'Midpoint'", "riemann-right, midpoint, trapezoid or gauss-legendre"});
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of(ATTRIBUTE));
            args.addAll(List.of(c[0], c[1]));
            var r = run(args.toArray(String[]::new));
            assertEquals(2, r.code(), String.join(" ", c) + ": " + r.err());
            String e = r.err().strip();
            assertFalse(e.contains("\n"), "one line expected: " + e);
            assertTrue(e.startsWith("ipg: ") && e.contains(c[0]) && e.contains(c[2]) && e.contains(c[3]) && e.endsWith("(see 'ipg attribute --help')"),
                    e);
        }
        var r = run("compare", "-m", "M", "--support", "S", "--eval", "E", "--site", "blocks.0.hook_resid_post", "-o", "O",
                "--top-count", "3", "--cv-mode", "subtract");
        assertEquals("ipg: Invalid value for option '--cv-mode': unknown value 'subtract' (use add, scale) (see 'ipg compare --help')",
                r.err().strip());
        r = run("steer", "-m", "M", "-p", "x", "--rank", "magnitude");
        assertEquals("ipg: Invalid value for option '--rank': unknown rank 'magnitude': use signed or abs (see 'ipg steer --help')",
                r.err().strip());
    }

    @Test
    void theHelpListsTheSpellingsAndTheDefaults() {
        String help = run("attribute", "--help").out().replaceAll("\\s+", " ");
        for (String s : List.of("grpo, rloo;", "(default: grpo)", "riemann-right, midpoint, trapezoid, gauss-legendre (default: riemann-right",
                "on-path, reuse-weighted", "tempered, truncated", "zero, mean", "all, generated")) {
            assertTrue(help.contains(s), s + " not in " + help);
        }
        String demo = run("demo", "--help").out().replaceAll("\\s+", " ");
        assertTrue(demo.contains("demo, planted (default: demo"), demo);
        String train = run("sae", "train", "--help").out().replaceAll("\\s+", " ");
        assertTrue(train.contains("saelens, sparsify (default: saelens)") && train.contains("(default: 128)"), train);
    }
}
