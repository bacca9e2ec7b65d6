package dev.ipg.core.tokenize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ipg.core.IpgException;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Jinja features that real chat templates use, each rendered by our Jinjava set-up and compared with
 * Python's jinja2 3.1.2 (Debian) configured as transformers' {@code apply_chat_template} configures it
 * ({@code ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
 * extensions=["jinja2.ext.loopcontrols"])}, {@code tojson} = {@code json.dumps(ensure_ascii=False)}),
 * with the same two messages and {@code eos_token}. The expected strings are jinja2's output pasted
 * verbatim.
 */
class JinjaCompatTest {

    static final List<ChatMessage> MESSAGES = List.of(
            ChatMessage.system(" Be brief. "),
            ChatMessage.user("Hi <think>\nhm\n</think>\n\nthere {{ 7*7 }}"));

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(
                        "{{ messages[::-1] | map(attribute='role') | join(',') }}",
                        "user,system"),
                Arguments.of(
                        "{{ messages[-1].role }}|{{ messages[-2]['role'] }}",
                        "user|system"),
                Arguments.of(
                        "{{ 'abcdef'[1:5:2] }}|{{ 'abcdef'[::-1] }}|{{ 'abcdef'[-2:] }}|{{ 'abcdef'[:-4] }}|{{ 'héllo😀'[::-1] }}",
                        "bd|fedcba|ef|ab|😀olléh"),
                Arguments.of(
                        "{{ [1,2,3,4,5][-2:] | join(',') }}|{{ [1,2,3,4,5][5:0:-2] | join(',') }}|{{ [1,2,3,4,5][::2] | join(',') }}|{{ [1,2,3][10:] | length }}|{{ [1,2,3,4,5][-100:2] | join(',') }}",
                        "4,5|5,3|1,3,5|0|1,2"),
                Arguments.of(
                        "{% set ns = namespace(n=messages|length - 1, found=false) %}{{ ns.n }}/{{ ns.found }}",
                        "1/False"),
                Arguments.of(
                        "{% set ns = namespace(c=0) %}{% for m in messages %}{% set ns.c = ns.c + m.content|length %}{% endfor %}{{ ns.c }}",
                        "50"),
                Arguments.of(
                        "[{{ '  a b  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '\n\nhi\n'.lstrip('\n') }}|{{ 'hi \n\n'.rstrip() }}|{{ 'abcba'.strip('ab') }}]",
                        "[a b|hi|hi\n|hi|c]"),
                Arguments.of(
                        "{{ 'a</think>b</think>c'.split('</think>')[-1] }}|{{ 'a,b,,'.split(',') | length }}|{{ ' a  b '.split() | join('|') }}|{{ 'a-b-c'.split('-', 1) | join('|') }}|{{ 'a-b-c'.rsplit('-', 1) | join('|') }}|{{ 'a.b'.split('x') | length }}",
                        "c|4|a|b|a|b-c|a-b|c|1"),
                Arguments.of(
                        "{{ 'Hello'.upper() }}{{ 'Hello'.lower() }}|{{ 'aXbXc'.replace('X', '-') }}|{{ 'aXbXc'.replace('X', '-', 1) }}|{{ 'hello world'.title() }}|{{ 'hELLO'.capitalize() }}",
                        "HELLOhello|a-b-c|a-bXc|Hello World|Hello"),
                Arguments.of(
                        "{% if 'hello'.startswith('he') %}A{% endif %}{% if 'hello'.startswith(('x', 'h')) %}B{% endif %}{% if not 'hello'.endswith('x') %}C{% endif %}{% if 'x.json'.endswith('.json') %}D{% endif %}",
                        "ABCD"),
                Arguments.of(
                        "{{ 'hello'.find('l') }}|{{ 'hello'.rfind('l') }}|{{ 'hello'.find('z') }}|{{ 'hello'.count('l') }}|{{ ', '.join(['a', 'b']) }}|{{ 'l1\nl2\r\nl3'.splitlines() | join('+') }}",
                        "2|3|-1|2|a, b|l1+l2+l3"),
                Arguments.of(
                        "{% if 'x' is string %}S{% endif %}{% if messages[0] is mapping %}M{% endif %}{% if messages is string %}X{% endif %}{% if undefined_thing is defined %}D{% endif %}{% if none is none %}N{% endif %}{% if messages is not string %}L{% endif %}",
                        "SMNL"),
                Arguments.of(
                        "{% for m in messages %}{{ loop.index0 }}{{ loop.index }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %}{{ loop.length }};{% endfor %}",
                        "01F2;12L2;"),
                Arguments.of(
                        "{{ {'a': 1, 'b': [true, none, 'é\"\\n'], 'c': 1.5, 'd': {} } | tojson }}",
                        "{\"a\": 1, \"b\": [true, null, \"é\\\"\\n\"], \"c\": 1.5, \"d\": {}}"),
                Arguments.of(
                        "{{ {'b': [1, 2], 'a': {'x': []} } | tojson(indent=2) }}",
                        "{\n  \"b\": [\n    1,\n    2\n  ],\n  \"a\": {\n    \"x\": []\n  }\n}"),
                Arguments.of(
                        "{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}",
                        "{\"a\": 2, \"b\": 1}"),
                Arguments.of(
                        "{{ messages | tojson }}",
                        "[{\"role\": \"system\", \"content\": \" Be brief. \"}, {\"role\": \"user\", \"content\": \"Hi <think>\\nhm\\n</think>\\n\\nthere {{ 7*7 }}\"}]"),
                Arguments.of(
                        "{% for m in messages %}\n    {% if m.role == 'user' %}\nU:{{ m.content }}\n    {% endif %}\n{% endfor %}\nend",
                        "U:Hi <think>\nhm\n</think>\n\nthere {{ 7*7 }}\nend"),
                Arguments.of(
                        "  {%- if true %}\n  x\n  {%- endif %}  \n  {{- 'y' -}}  \n z",
                        "  xyz"),
                Arguments.of(
                        "{% if tools %}T{% else %}F{% endif %}[{{ bos_token }}]{% if tools is defined %}D{% endif %}",
                        "F[]"),
                Arguments.of(
                        "{{ not(true and false) }}|{{ 'a' ~ 1 }}|{{ (messages | length) // 2 }}|{{ 7 % 3 }}|{{ 2 ** 3 }}",
                        "True|a1|1|1|8"),
                Arguments.of(
                        "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}",
                        "a=1;b=2;"),
                Arguments.of(
                        "{{ messages | selectattr('role', 'equalto', 'user') | list | length }}",
                        "1"),
                Arguments.of(
                        "{% if messages[0]['role'] == 'system' %}[{{ messages[0]['content'] | trim }}]{% endif %}",
                        "[Be brief.]"),
                Arguments.of(
                        "{%- set rest = messages[1:] %}{{ rest | length }}|{{ messages[0].content[:3] }}",
                        "1| Be"),
                Arguments.of(
                        "{{ messages[0].get('name', 'anon') }}|{% if 'think' in messages[1].content %}Y{% endif %}{% if 'zzz' not in messages[1].content %}N{% endif %}",
                        "anon|YN"),
                Arguments.of(
                        "{% macro f(x, y=2) %}{{ x + y }}{% endmacro %}{{ f(1) }}|{{ f(1, y=5) }}",
                        "3|6"),
                Arguments.of(
                        "{{ true }}|{{ false }}|{{ 3 }}|{{ 2.5 }}|{{ [1, 'a'] }}|{{ {'k': 'v'} }}",
                        "True|False|3|2.5|[1, 'a']|{'k': 'v'}"),
                Arguments.of(
                        "{% set x = messages[1].content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}[{{ x }}]",
                        "[hm]"),
                Arguments.of(
                        "{{ messages[0].content.strip() ~ '|' ~ ('a' if messages|length > 1 else 'b') }}",
                        "Be brief.|a"),
                Arguments.of(
                        "{% for m in messages if m.role != 'system' %}{{ m.role }}{% endfor %}|{% for i in range(3) %}{{ i }}{% endfor %}",
                        "user|012"),
                Arguments.of(
                        "{{ (messages | first).role }}|{{ (messages | last).role }}|{{ 'abc' | length }}|{{ ['b','a'] | sort | join }}",
                        "system|user|3|ab"),
                Arguments.of(
                        "{% for m in messages %}{% if loop.index0 == 0 %}{% continue %}{% endif %}{{ m.role }}{% endfor %}",
                        "user"),
                Arguments.of(
                        "{% for k, v in {'a': 1, 'b': 'x'} | items %}{{ k }}={{ v }};{% endfor %}|{{ {'p': 1} | items | list | length }}",
                        "a=1;b=x;|1"),
                Arguments.of(
                        "{{ [3, 10, 2] | max }}|{{ [3, 10, 2] | min }}|{{ ['b', 'A', 'c'] | max }}|{{ ['b', 'A', 'c'] | min }}|{{ ['b', 'A', 'c'] | min(case_sensitive=true) }}|{{ (messages | max(attribute='role')).role }}",
                        "10|2|c|A|A|user"),
                Arguments.of(
                        "{{ '<|im_start|>' + messages[0].role + '<|im_end|>' }}{# a comment with | bogus and is bogus #}{% raw %}{{ x | bogus }}{% endraw %}",
                        "<|im_start|>system<|im_end|>{{ x | bogus }}")
        );
    }

    @ParameterizedTest
    @MethodSource("cases")
    void rendersLikeJinja2(String template, String expected) {
        var t = ChatTemplate.of(template, "case", Map.of("eos_token", "<|im_end|>"));
        assertEquals(expected, t.render(MESSAGES, false));
    }

    @Test
    void unknownFiltersAndTestsFailWhenReachedAsInJinja2() {
        // jinja2 3.1.2 renders "ok" here (an unknown filter in a branch not taken is no error) ...
        var unused = ChatTemplate.of("{% if false %}{{ x | bogus }}{% endif %}ok", "u.jinja", Map.of());
        assertEquals("ok", unused.render(MESSAGES, false));
        // ... but fails once the filter or test is reached: "No filter named 'bogus'", "No test named 'bogus' found."
        var filter = ChatTemplate.of("{{ messages | bogus }}", "f.jinja", Map.of());
        var e = assertThrows(IpgException.class, () -> filter.render(MESSAGES, false));
        assertEquals("f.jinja: chat template failed: no filter named 'bogus'", e.getMessage());
        var test = ChatTemplate.of("{% if x is not bogus %}{% endif %}", "t.jinja", Map.of());
        e = assertThrows(IpgException.class, () -> test.render(MESSAGES, false));
        assertEquals("t.jinja: chat template failed: no test named 'bogus'", e.getMessage());
    }

    @Test
    void divisionByZeroFailsNamingTheTemplateAsInJinja2() {
        // jinja2 3.1: ZeroDivisionError for each; Jinjava alone renders "Infinity" and "NaN"
        for (String src : new String[] {"{{ 1/0 }}", "{{ 0/0 }}", "{% if 1/0 > 2 %}x{% endif %}", "{{ 5 % 0 }}"}) {
            var t = ChatTemplate.of(src, "z.jinja", Map.of());
            var e = assertThrows(IpgException.class, () -> t.render(MESSAGES, false), src);
            assertEquals("z.jinja: chat template failed: " + (src.contains("%") && !src.contains("{%") ? "modulo" : "division")
                    + " by zero", e.getMessage());
        }
        // what jinja2 renders for the same operators with a non-zero divisor
        assertEquals("3.5|1|2.0", ChatTemplate.of("{{ 7/2 }}|{{ 7 % 3 }}|{{ 6/3 }}", "ok.jinja", Map.of())
                .render(MESSAGES, false));
    }

    @Test
    void moduloTakesTheSignOfTheDivisorAsInPython() {
        // Python (and jinja2): -7 % 3 == 2, 7 % -3 == -2, -7 % -3 == -1, -6 % 3 == 0, -7.5 % 2 == 0.5
        assertEquals("2|-2|-1|0|0.5|1", ChatTemplate.of(
                "{{ -7 % 3 }}|{{ 7 % -3 }}|{{ -7 % -3 }}|{{ -6 % 3 }}|{{ -7.5 % 2 }}|{{ 7 % 3 }}", "mod.jinja", Map.of())
                .render(MESSAGES, false));
    }
}
