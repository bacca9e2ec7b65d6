package dev.ipg.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The "Depends on ..." sentence of a package's {@code package-info.java} names exactly the ipg
 * packages its sources import.
 */
class PackageInfoTest {

    private static final Path ROOT = Path.of("src", "main", "java", "dev", "ipg", "core");
    private static final Pattern IMPORT = Pattern.compile("^import dev\\.ipg\\.core\\.([a-z]+)\\.", Pattern.MULTILINE);
    private static final Pattern NAMED = Pattern.compile("\\{@code ([a-z]+)}");

    @ParameterizedTest
    @ValueSource(strings = {"tensor", "io", "nn", "tokenize", "model", "data", "run", "generate", "grad", "signal", "sae", "steer",
        "eval", "attribution", "compare", "report", "demo", "train"})
    void dependencyLineMatchesTheImports(String pkg) throws IOException {
        Path dir = ROOT.resolve(pkg);
        assertTrue(Files.isDirectory(dir), "not run from the ipg-core module: " + dir.toAbsolutePath());
        Set<String> imported = new TreeSet<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Matcher m = IMPORT.matcher(Files.readString(f));
                while (m.find()) {
                    if (!m.group(1).equals(pkg)) {
                        imported.add(m.group(1));
                    }
                }
            }
        }
        String doc = Files.readString(dir.resolve("package-info.java")).replaceAll("\\s*\\*\\s*", " ");
        int at = doc.indexOf("Depends on");
        assertTrue(at >= 0, pkg + ": no 'Depends on' sentence");
        String sentence = doc.substring(at, doc.indexOf('.', at));
        Set<String> named = new TreeSet<>();
        Matcher m = NAMED.matcher(sentence);
        while (m.find()) {
            named.add(m.group(1));
        }
        assertEquals(imported, named, pkg + ": " + sentence);
    }
}
