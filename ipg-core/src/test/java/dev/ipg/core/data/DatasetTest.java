package dev.ipg.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetTest {

    @TempDir
    Path tmp;

    private Path write(String name, String... lines) throws IOException {
        var file = tmp.resolve(name);
        Files.writeString(file, String.join("\n", lines) + "\n");
        return file;
    }

    private static final Pattern FINAL_LINE = Pattern.compile("(?m)^####\\s*(.*)$");

    @Test
    void gsm8kShapeGoldIsTheFinalLineWithoutCommas() throws IOException {
        var test = Dataset.load(SharedData.file("gsm8k/test.jsonl"));
        assertEquals(Dataset.Shape.GSM8K, test.shape());
        assertEquals(1319, test.size());
        assertEquals("test.jsonl", test.name());
        var first = test.get(0);
        assertEquals("test-0", first.id());
        assertEquals("18", first.gold());
        assertTrue(first.question().startsWith("Janet\u2019s ducks lay 16 eggs per day."));
        assertEquals("test-1318", test.get(1318).id());
        // every gold against the last "####" line read independently
        int withCommas = 0;
        for (var p : test.problems()) {
            var m = FINAL_LINE.matcher(p.json().get("answer").asText());
            String last = null;
            while (m.find()) {
                last = m.group(1).strip();
            }
            withCommas += last.contains(",") ? 1 : 0;
            assertEquals(last.replace(",", ""), p.gold(), p.id());
        }
        assertTrue(withCommas > 0, "the test set has golds like 2,125");
        var train = Dataset.load(SharedData.file("gsm8k/train.jsonl"));
        assertEquals(7473, train.size());
        assertEquals("train-1", train.get(1).id());
        assertEquals("10", train.get(1).gold());
    }

    @Test
    void math500ShapeUsesUniqueIdAndKeepsTheRawLine() throws IOException {
        var d = Dataset.load(SharedData.file("math500/test.jsonl"));
        assertEquals(Dataset.Shape.MATH500, d.shape());
        assertEquals(FieldMapping.MATH500, d.mapping());
        assertEquals(500, d.size());
        var p = d.get(0);
        assertEquals("test/precalculus/807.json", p.id());
        assertEquals("\\left( 3, \\frac{\\pi}{2} \\right)", p.gold());
        assertTrue(p.question().startsWith("Convert the point $(0,3)$ in rectangular coordinates"));
        assertEquals("Precalculus", p.json().get("subject").asText());
        assertEquals(2, p.json().get("level").asInt());
    }

    @Test
    void aimeShapeUsesNumericIdsAndKeepsLeadingZeros() throws IOException {
        var d = Dataset.load(SharedData.file("aime24/test.jsonl"));
        assertEquals(Dataset.Shape.AIME, d.shape());
        assertEquals(30, d.size());
        assertEquals("60", d.get(0).id());
        assertEquals("204", d.get(0).gold());
        assertEquals("025", d.get(7).gold());
        assertEquals("89", d.get(29).id());
    }

    @Test
    void explicitFieldMappingOverridesDetection() throws IOException {
        var mapping = FieldMapping.parse("question=question, answer=answer,id=id");
        var d = Dataset.load(SharedData.file("aime24/test.jsonl"), mapping);
        assertEquals(Dataset.Shape.CUSTOM, d.shape());
        assertEquals("60", d.get(0).id());
        var file = write("mine.jsonl", "{\"q\": \"2+2?\", \"a\": 4}", "", "{\"q\": \"Sum?\", \"a\": \"x\\n#### 1,000\"}");
        var mine = Dataset.load(file, FieldMapping.parse("answer=a,question=q"));
        assertEquals(List.of("mine-0", "mine-1"), mine.problems().stream().map(Problem::id).toList());
        assertEquals("4", mine.get(0).gold());
        assertEquals("1000", mine.get(1).gold());
        var bom = write("bom.jsonl", "\uFEFF{\"question\": \"q\", \"answer\": \"#### 7\"}");
        assertEquals("7", Dataset.load(bom).get(0).gold());
    }

    @Test
    void fieldMappingSpecs() {
        assertEquals(new FieldMapping("problem", "answer", "unique_id"),
                FieldMapping.parse("question=problem,answer=answer,id=unique_id"));
        var noId = FieldMapping.parse("question=q,answer=a");
        assertNull(noId.id());
        assertEquals("question=q,answer=a", noId.toString());
        for (String bad : new String[] {"", "question=q", "question=q,answer=", "question=q,answer=a,foo=b",
                "question=q,question=r,answer=a", "question"}) {
            var e = assertThrows(IpgException.class, () -> FieldMapping.parse(bad), bad);
            assertTrue(e.getMessage().contains("field mapping"), e.getMessage());
        }
    }

    @Test
    void errorsNameTheFileAndTheLine() throws IOException {
        assertMessage("dataset " + tmp.resolve("none.jsonl") + " does not exist", tmp.resolve("none.jsonl"), null);

        var badJson = write("bad.jsonl", "{\"question\": \"q\", \"answer\": \"#### 1\"}", "", "{\"question\": oops}");
        var e = assertThrows(IpgException.class, () -> Dataset.load(badJson));
        assertTrue(e.getMessage().startsWith(badJson + ": line 3: not valid JSON: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());

        var missing = write("missing.jsonl", "{\"question\": \"q\", \"answer\": \"#### 1\"}", "{\"question\": \"r\"}");
        assertMessage(missing + ": line 2: no field 'answer' (fields: question)", missing, null);

        var noMark = write("nomark.jsonl", "{\"question\": \"q\", \"answer\": \"the answer is 1\"}");
        assertMessage(noMark + ": line 1: GSM8K answer has no '#### ' line with the final answer", noMark, null);

        var dup = write("dup.jsonl", "{\"id\": 1, \"problem\": \"a\", \"answer\": \"1\"}",
                "{\"id\": 1, \"problem\": \"b\", \"answer\": \"2\"}");
        assertMessage(dup + ": line 2: id '1' already used on line 1", dup, null);

        var array = write("array.jsonl", "[1, 2]");
        assertMessage(array + ": line 1: expected a JSON object, found an array", array, null);

        var unknown = write("unknown.jsonl", "{\"prompt\": \"p\", \"target\": \"t\"}");
        e = assertThrows(IpgException.class, () -> Dataset.load(unknown));
        assertTrue(e.getMessage().startsWith("cannot tell the shape of " + unknown + " from line 1 (fields: prompt, target)"),
                e.getMessage());

        var empty = write("empty.jsonl", "", "  ");
        assertMessage("dataset " + empty + " holds no problems", empty, null);

        var object = write("object.jsonl", "{\"q\": {\"x\": 1}, \"a\": \"1\"}");
        assertMessage(object + ": line 1: field 'q' is an object, not a string or number", object, FieldMapping.parse("question=q,answer=a"));

        var blank = write("blank.jsonl", "{\"q\": \"x\", \"a\": \" \"}");
        assertMessage(blank + ": line 1: field 'a' is empty", blank, FieldMapping.parse("question=q,answer=a"));

        var noId = write("noid.jsonl", "{\"q\": \"x\", \"a\": \"1\"}");
        assertMessage(noId + ": line 1: no field 'key' (fields: q, a)", noId, FieldMapping.parse("question=q,answer=a,id=key"));
    }

    @Test
    void invalidUtf8IsReportedOnItsOwnLine() throws IOException {
        String good = "{\"question\": \"q%d\", \"answer\": \"#### %d\"}\n";
        for (int bad : new int[] {2, 4}) {
            var out = new java.io.ByteArrayOutputStream();
            for (int line = 1; line <= 5; line++) {
                if (line == bad) {
                    out.write("{\"question\": \"caf".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    out.write(new byte[] {(byte) 0xC3, (byte) 0x28}); // a broken two-byte sequence
                    out.write("\", \"answer\": \"#### 1\"}\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                } else {
                    out.write(String.format(good, line, line).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }
            }
            Path f = Files.write(tmp.resolve("utf8-" + bad + ".jsonl"), out.toByteArray());
            assertMessage(f + ": line " + bad + ": not valid UTF-8", f, null);
        }
        // long lines before the bad one (beyond any read buffer) do not shift the count
        String longLine = String.format(good, 0, 0).replace("q0", "q".repeat(20_000));
        var out = new java.io.ByteArrayOutputStream();
        out.write((longLine + longLine.replace("#### 0", "#### 1").replace("qqq", "qqr")).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        out.write(new byte[] {'{', (byte) 0xFF, '}', '\n'});
        Path f = Files.write(tmp.resolve("utf8-late.jsonl"), out.toByteArray());
        assertMessage(f + ": line 3: not valid UTF-8", f, null);
    }

    @Test
    void aNullFieldIsCalledNullNotMissing() throws IOException {
        var f = write("null.jsonl", "{\"question\": \"q\", \"answer\": \"#### 1\"}", "{\"question\": null, \"answer\": \"#### 2\"}");
        assertMessage(f + ": line 2: field 'question' is null", f, null);
    }

    @Test
    void jacksonSettingsDoNotLeakIntoMessages() throws IOException {
        var nan = write("nan.jsonl", "{\"question\": \"q\", \"answer\": NaN}");
        var e = assertThrows(IpgException.class, () -> Dataset.load(nan));
        assertTrue(e.getMessage().startsWith(nan + ": line 1: not valid JSON: "), e.getMessage());
        assertTrue(e.getMessage().contains("'NaN'") && e.getMessage().contains("not allowed in JSON"), e.getMessage());
        var big = write("big.jsonl", "{\"question\": \"q\", \"answer\": " + "9".repeat(1500) + "}");
        e = assertThrows(IpgException.class, () -> Dataset.load(big));
        assertTrue(e.getMessage().contains("exceeds the maximum allowed (1000)"), e.getMessage());
        var deep = write("deep.jsonl", "{\"question\": " + "[".repeat(1200) + "]".repeat(1200) + "}");
        e = assertThrows(IpgException.class, () -> Dataset.load(deep));
        assertTrue(e.getMessage().contains("nesting depth"), e.getMessage());
        for (var m : new String[] {nan.toString(), big.toString(), deep.toString()}) {
            String msg = assertThrows(IpgException.class, () -> Dataset.load(Path.of(m))).getMessage();
            for (String leak : new String[] {"StreamReadConstraints", "Source:", "REDACTED", "JsonReadFeature", "`"}) {
                assertFalse(msg.contains(leak), msg);
            }
        }
    }

    private static void assertMessage(String expected, Path file, FieldMapping mapping) {
        assertEquals(expected, assertThrows(IpgException.class, () -> Dataset.load(file, mapping)).getMessage());
    }

    @Test
    void gsm8kTestAndTrainAreDisjoint() {
        var test = Dataset.load(SharedData.file("gsm8k/test.jsonl"));
        var train = Dataset.load(SharedData.file("gsm8k/train.jsonl"));
        var overlap = Dataset.disjoint(test, train);
        assertTrue(overlap.isDisjoint(), overlap.describe());
        assertEquals("test.jsonl and train.jsonl are disjoint", overlap.describe());
        Dataset.requireDisjoint(test, train);
    }

    @Test
    void aDatasetOverlapsItselfEverywhere() {
        var math = Dataset.load(SharedData.file("math500/test.jsonl"));
        var overlap = Dataset.disjoint(math, math);
        assertEquals(500, overlap.sharedIds().size());
        assertEquals(500, overlap.sameQuestions().size());
        assertThrows(IpgException.class, () -> Dataset.requireDisjoint(math, math));
    }

    @Test
    void overlapFindsSharedIdsAndQuestionsEqualUpToCaseAndSpacing() throws IOException {
        var a = Dataset.load(write("a.jsonl",
                "{\"id\": \"x1\", \"problem\": \"What is  2+2?\", \"answer\": \"4\"}",
                "{\"id\": \"x2\", \"problem\": \"Name a prime.\", \"answer\": \"2\"}",
                "{\"id\": \"x3\", \"problem\": \"Unique one\", \"answer\": \"0\"}"));
        var b = Dataset.load(write("b.jsonl",
                "{\"id\": \"y1\", \"problem\": \"what is 2+2?\\n\", \"answer\": \"4\"}",
                "{\"id\": \"x2\", \"problem\": \"Different text\", \"answer\": \"2\"}"));
        var overlap = Dataset.disjoint(a, b);
        assertEquals(List.of("x2"), overlap.sharedIds());
        assertEquals(List.of(new Overlap.SameQuestion("x1", "y1")), overlap.sameQuestions());
        assertEquals("a.jsonl and b.jsonl overlap: 1 shared id (x2), 1 identical question (x1 = y1)", overlap.describe());
        var e = assertThrows(IpgException.class, () -> Dataset.requireDisjoint(a, b));
        assertEquals(overlap.describe(), e.getMessage());
    }
}
