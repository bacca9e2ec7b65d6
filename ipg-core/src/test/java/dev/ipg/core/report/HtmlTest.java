package dev.ipg.core.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Escaping of text into HTML, JSON data blocks, inline scripts and CSV. */
class HtmlTest {

    static final String NASTY = "</script><script>window.__pwned=1</script><img src=x onerror=alert(1)> & \"q\" 'a' <!-- \u2028";

    @Test
    void htmlEscapeLeavesNoMarkup() {
        assertEquals("&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot; &#39;z&#39;", Html.escape("<b>x</b> & \"y\" 'z'"));
        String e = Html.escape(NASTY);
        assertFalse(e.contains("<") || e.contains(">") || e.contains("\"") || e.contains("'"), e);
        assertEquals("", Html.escape(null));
    }

    @Test
    void jsonForScriptCannotCloseTheBlockAndParsesBackToTheSameValue() throws Exception {
        ObjectMapper m = new ObjectMapper();
        String json = m.writeValueAsString(Map.of("text", NASTY, "n", 1.5));
        String safe = Html.jsonForScript(json);
        assertFalse(safe.contains("<"), safe);
        assertFalse(safe.contains(">"), safe);
        assertFalse(safe.contains("&"), safe);
        assertFalse(safe.contains("\u2028"), safe);
        assertEquals(m.readTree(json), m.readTree(safe));
        assertEquals(NASTY, m.readTree(safe).get("text").asText());
    }

    @Test
    void inlineScriptNeutralizesScriptEndTagsInAnyCase() {
        String js = "var a = '</script>'; var b = \"</SCRIPT \"; var c = /<!--/;";
        String safe = Html.inlineScript(js);
        assertEquals("var a = '<\\/script>'; var b = \"<\\/SCRIPT \"; var c = /<\\!--/;", safe);
        assertFalse(safe.toLowerCase(java.util.Locale.ROOT).contains("</script"));
    }

    @Test
    void csvQuotesOnlyWhenNeeded() {
        assertEquals("plain", Html.csv("plain"));
        assertEquals("\"a,b\"", Html.csv("a,b"));
        assertEquals("\"say \"\"hi\"\"\"", Html.csv("say \"hi\""));
        assertEquals("\"two\nlines\"", Html.csv("two\nlines"));
        assertEquals("", Html.csv(null));
    }
}
