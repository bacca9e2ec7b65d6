package dev.ipg.core.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Python behaviours re-implemented for templates, against values printed by CPython 3.11
 * (Debian's /usr/bin/python3): list slicing, {@code str} methods, {@code repr(float)} and {@code
 * strftime}.
 */
class PythonSemanticsTest {

    private static int[] slice(Integer start, Integer stop, Integer step) {
        return PyExpressionParser.Slice.indices(7, start, stop, step); // on list(range(7))
    }

    @Test
    void sliceIndicesMatchPython() {
        assertArrayEquals(new int[] {6, 5, 4, 3, 2, 1, 0}, slice(null, null, -1));
        assertArrayEquals(new int[] {4, 5, 6}, slice(-3, null, null));
        assertArrayEquals(new int[] {1, 3, 5}, slice(1, 6, 2));
        assertArrayEquals(new int[] {6, 4, 2}, slice(6, 0, -2));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6}, slice(-100, 100, null));
        assertArrayEquals(new int[] {6, 5, 4, 3, 2, 1, 0}, slice(100, -100, -1));
        assertArrayEquals(new int[] {}, slice(2, 2, null));
        assertArrayEquals(new int[] {6, 3, 0}, slice(-1, -8, -3));
        assertArrayEquals(new int[] {}, slice(5, 1, null));
        assertArrayEquals(new int[] {0, 3, 6}, slice(null, null, 3));
        assertThrows(RuntimeException.class, () -> slice(null, null, 0));
    }

    @Test
    void splitMatchesPython() {
        assertEquals(List.of("a", "b", "", ""), PyStringMethods.split("a,b,,", ",", -1));
        assertEquals(List.of("a", "b"), PyStringMethods.split(" a  b ", null, -1));
        assertEquals(List.of("a", "b  c"), PyStringMethods.split("a  b  c", null, 1));
        assertEquals(List.of("a  b", "c"), PyStringMethods.rsplit("a  b  c  ", null, 1));
        assertEquals(List.of("x--y", "z"), PyStringMethods.rsplit("x--y--z", "--", 1));
        assertEquals(List.of(""), PyStringMethods.split("", ",", -1));
        assertEquals(List.of(), PyStringMethods.split("", null, -1));
        assertEquals(List.of("", "", "", ""), PyStringMethods.split("aaa", "a", -1));
        assertThrows(RuntimeException.class, () -> PyStringMethods.split("abc", "", -1));
    }

    @Test
    void stripMatchesPython() {
        assertEquals("hi", PyStringMethods.strip("xyhixy", "xy", true, true));
        assertEquals("hi", PyStringMethods.strip("\u3000hi\u2028", null, true, true));
        assertEquals("a", PyStringMethods.strip("\uD83D\uDE00a\uD83D\uDE00", "\uD83D\uDE00", true, true));
        assertEquals("hi\n", PyStringMethods.strip("\n\nhi\n", "\n", true, false));
    }

    @Test
    void floatReprMatchesPython() {
        String[] expected = {"0.1", "0.3333333333333333", "1e+16", "1000000000000000.0", "123456789.0", "2.5e-07",
                "-0.0", "0.0001", "1.5e+300", "100.0"};
        double[] values = {0.1, 1.0 / 3, 1e16, 1e15, 123456789.0, 2.5e-7, -0.0, 1e-4, 1.5e300, 100.0};
        for (int i = 0; i < values.length; i++) {
            assertEquals(expected[i], PyJson.floatRepr(values[i]));
        }
    }

    @Test
    void tojsonEscapesLikeJsonDumps() {
        // json.dumps("tab\there \"q\" \\ \x01 é", ensure_ascii=False) and with ensure_ascii=True
        String s = "tab\there \"q\" \\ \u0001 é";
        assertEquals("\"tab\\there \\\"q\\\" \\\\ \\u0001 é\"", PyJson.dumps(s, PyJson.Style.DEFAULT));
        assertEquals("\"tab\\there \\\"q\\\" \\\\ \\u0001 \\u00e9\"",
                PyJson.dumps(s, new PyJson.Style(true, null, ", ", ": ", false)));
    }

    @Test
    void strftimeMatchesPython() {
        var t = ZonedDateTime.of(2025, 3, 7, 14, 5, 9, 0, ZoneOffset.UTC);
        assertEquals("07 Mar 2025, Friday March 14:05:09 25 066 02PM % 03 Fri",
                JinjaEnvironment.strftime(t, "%d %b %Y, %A %B %H:%M:%S %y %j %I%p %% %m %a"));
    }
}
