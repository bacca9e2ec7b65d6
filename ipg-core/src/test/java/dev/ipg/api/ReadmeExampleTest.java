package dev.ipg.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.io.Json;
import dev.ipg.core.model.Site;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.ScoresFile;
import dev.ipg.core.steer.Top;
import dev.ipg.core.testutil.PyTorchReference;
import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The program of README.md's "Java API" section, exactly as written there: compiled with
 * javax.tools against the built classes and run, with the flags the README states, on the bundled
 * demo model; its printed results must be the ones its run directories hold.
 */
class ReadmeExampleTest {

    @TempDir
    Path tmp;

    /** The first ```java block after the heading "## Java API". */
    static String example(Path readme) throws IOException {
        String text = Files.readString(readme);
        int section = text.indexOf("\n## Java API\n");
        assertTrue(section >= 0, "README.md has no '## Java API' section");
        Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(text);
        assertTrue(m.find(section), "no ```java block in the Java API section");
        return m.group(1);
    }

    /** The test class path, also when surefire hides it in a manifest-only jar. */
    static List<String> classPath() throws Exception {
        List<String> out = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (e.endsWith(".jar") && Path.of(e).getFileName().toString().startsWith("surefire")) {
                try (JarFile j = new JarFile(e)) {
                    String cp = j.getManifest().getMainAttributes().getValue("Class-Path");
                    if (cp != null) {
                        for (String u : cp.split(" ")) {
                            if (!u.isBlank()) {
                                out.add(Path.of(new URI(u)).toString());
                            }
                        }
                    }
                }
            } else {
                out.add(e);
            }
        }
        // the library's own classes and its dependencies; the tests' classes stay out
        out.removeIf(p -> p.endsWith("test-classes") || p.endsWith("test-classes/") || p.contains("surefire"));
        return out;
    }

    @Test
    void readmeProgramCompilesRunsAndPrintsWhatItsRunsHold() throws Exception {
        Path root = PyTorchReference.repositoryRoot();
        String source = example(root.resolve("README.md"));
        Matcher cls = Pattern.compile("public class (\\w+)").matcher(source);
        assertTrue(cls.find(), "the example declares no public class");
        String name = cls.group(1);
        Path src = tmp.resolve("src").resolve(name + ".java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, source);
        Path classes = Files.createDirectories(tmp.resolve("classes"));
        String cp = String.join(File.pathSeparator, classPath());

        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StringWriter diagnostics = new StringWriter();
        boolean ok = javac.getTask(diagnostics, null, null,
                List.of("--release", "25", "--add-modules", "jdk.incubator.vector", "-Xlint:all", "-Werror", "-cp", cp, "-d", classes.toString()),
                null, javac.getStandardFileManager(null, Locale.ROOT, StandardCharsets.UTF_8).getJavaFileObjects(src.toFile())).call();
        assertTrue(ok, "the README example does not compile:\n" + diagnostics);

        Path out = tmp.resolve("out");
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(Arrays.asList(Ipg.JVM_FLAGS.split(" ")));
        cmd.addAll(List.of("-cp", classes + File.pathSeparator + cp, name, root.resolve("models/ipg-demo").toString(), out.toString()));
        Path log = tmp.resolve("run.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(600, TimeUnit.SECONDS), "the example ran longer than 10 minutes");
        String output = Files.readString(log);
        assertEquals(0, p.exitValue(), output);
        // the one notice an incubator module always gives; anything else (native access, ...) would mean a missing flag
        assertTrue(output.lines().filter(l -> l.startsWith("WARNING")).allMatch(l -> l.equals("WARNING: Using incubator modules: jdk.incubator.vector")),
                "the stated flags leave JVM warnings:\n" + output);

        // its lines, against what it wrote and what the library computes independently of the facade
        assertTrue(output.lines().anyMatch(l -> l.startsWith("completion: ") && l.length() > "completion: ".length()), output);
        assertTrue(output.contains("hook_z shape: [" + promptLength(output) + ", 4, 32]"), output);
        Matcher lp = Pattern.compile("log p\\(completion\\) = (-?[0-9.]+), \\|dL/dalpha\\| max = ([0-9.]+)").matcher(output);
        assertTrue(lp.find(), output);
        double logp = Double.parseDouble(lp.group(1));
        assertTrue(logp < 0 && logp > -200, "log-probability of a greedy completion: " + logp);
        assertTrue(Double.parseDouble(lp.group(2)) > 0, output);

        JsonNode completeness = Json.read(out.resolve("ipg/run.json")).path("completeness").path("blocks.1.hook_resid_post");
        assertTrue(output.contains(String.format(Locale.ROOT, "sum of scores %.4f, Jbar(1) - Jbar(0) %.4f",
                completeness.path("sum_scores").asDouble(), completeness.path("mean_jbar1_minus_jbar0").asDouble())), output);
        ScoresFile scores = ScoresFile.load(out.resolve("ipg"), Site.parse("blocks.1.hook_resid_post"));
        int[] top = scores.select(new Top.Percent(5), Rank.SIGNED).components();
        assertEquals(6, top.length, "5 % of 128 residual dimensions");
        assertTrue(output.contains("top 5%: " + Arrays.toString(top)), output);

        EvalRun.Summary before = EvalRun.readSummary(out.resolve("eval-original"));
        EvalRun.Summary after = EvalRun.readSummary(out.resolve("eval-suppressed"));
        assertEquals(20, before.problems());
        assertTrue(output.contains("accuracy original " + before.correct() + "/20, suppressed " + after.correct() + "/20"),
                output + "\n" + before + "\n" + after);
        JsonNode steering = Json.read(out.resolve("eval-suppressed/eval-config.json")).path("intervention");
        assertEquals(0.0, steering.path("gamma").asDouble(), 0);
        int[] recorded = new int[steering.path("components").size()];
        for (int i = 0; i < recorded.length; i++) {
            recorded[i] = steering.path("components").get(i).asInt();
        }
        assertArrayEquals(top, recorded, "the evaluation suppressed the components the program printed");
    }

    /** T of the chat prompt "Start with 12, add 7, times 3." for the demo model (one token per character). */
    static int promptLength(String output) {
        // ChatML: <|im_start|> "user\n" question <|im_end|> "\n" <|im_start|> "assistant\n"
        return 1 + "user\n".length() + "Start with 12, add 7, times 3.".length() + 1 + 1 + 1 + "assistant\n".length();
    }
}
