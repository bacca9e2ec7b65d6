package dev.ipg.core.tokenize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Qwen3's real chat template. The expected prompts were produced independently from the same
 * tokenizer_config.json by two engines that agree on all of them: {@code @huggingface/jinja} 0.5.11
 * (npm, Node 20; {@code new Template(chat_template).render({...})}) and Python's jinja2 3.1.2
 * (Debian) set up as transformers' {@code apply_chat_template} does ({@code
 * ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)}, {@code tojson} as {@code
 * json.dumps(ensure_ascii=False)}). The prompt with tools comes from jinja2 alone.
 */
class ChatTemplateQwen3Test {

    private static Tokenizer tok;
    private static ChatTemplate template;

    static final List<ChatMessage> SYSTEM_USER = List.of(
            ChatMessage.system("You are a helpful assistant."),
            ChatMessage.user("What is 2+3?"));

    static final List<ChatMessage> MULTI_TURN = List.of(
            ChatMessage.system("You are a careful solver."),
            ChatMessage.user("What is 2+3?"),
            ChatMessage.assistant("<think>\nAdd 2 and 3.\n</think>\n\nThe answer is 5."),
            ChatMessage.user("And 4*5?"));

    @BeforeAll
    static void load() {
        tok = Tokenizer.load(Fixtures.qwen3());
        template = tok.chatTemplate();
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    @Test
    void systemAndUserWithGenerationPrompt() {
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+3?<|im_end|>\n"
                + "<|im_start|>assistant\n", template.render(SYSTEM_USER, true));
        assertEquals(TokenizerQwen3Test.PROMPT, template.render(SYSTEM_USER, true, Map.of()));
    }

    @Test
    void thinkingDisabledAppendsAnEmptyThinkBlock() {
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+3?<|im_end|>\n"
                + "<|im_start|>assistant\n<think>\n\n</think>\n\n",
                template.render(SYSTEM_USER, true, Map.of("enable_thinking", false)));
        // enable_thinking=true is the same as leaving it out
        assertEquals(template.render(SYSTEM_USER, true), template.render(SYSTEM_USER, true, Map.of("enable_thinking", true)));
    }

    @Test
    void earlierAssistantTurnsLoseTheirReasoning() {
        assertEquals("<|im_start|>system\nYou are a careful solver.<|im_end|>\n<|im_start|>user\nWhat is 2+3?<|im_end|>\n"
                + "<|im_start|>assistant\nThe answer is 5.<|im_end|>\n<|im_start|>user\nAnd 4*5?<|im_end|>\n"
                + "<|im_start|>assistant\n", template.render(MULTI_TURN, true));
        assertEquals("<|im_start|>system\nYou are a careful solver.<|im_end|>\n<|im_start|>user\nWhat is 2+3?<|im_end|>\n"
                + "<|im_start|>assistant\nThe answer is 5.<|im_end|>\n<|im_start|>user\nAnd 4*5?<|im_end|>\n",
                template.render(MULTI_TURN, false));
    }

    @Test
    void aReplyAfterTheLastUserTurnKeepsItsReasoning() {
        var conversation = List.of(
                ChatMessage.user("What is 2+3?"),
                ChatMessage.assistant("<think>\nAdd them.\n</think>\n\n5"));
        assertEquals("<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n<think>\nAdd them.\n</think>\n\n5"
                + "<|im_end|>\n", template.render(conversation, false));
    }

    @Test
    void toolsAreListedAsPythonJson() {
        Map<String, Object> a = Map.of("type", "number");
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("a", a);
        properties.put("b", Map.of("type", "number"));
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("type", "object");
        parameters.put("properties", properties);
        parameters.put("required", List.of("a", "b"));
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", "add");
        function.put("description", "Add two numbers «exactly»");
        function.put("parameters", parameters);
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", function);
        assertEquals("<|im_start|>system\nYou are a helpful assistant.\n\n# Tools\n\nYou may call one or more functions to "
                + "assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n"
                + "<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"add\", \"description\": \"Add two numbers "
                + "«exactly»\", \"parameters\": {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"number\"}, \"b\": "
                + "{\"type\": \"number\"}}, \"required\": [\"a\", \"b\"]}}}\n</tools>\n\nFor each function call, return a json "
                + "object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": "
                + "<function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n<|im_start|>user\nWhat is 2+3?"
                + "<|im_end|>\n<|im_start|>assistant\n",
                template.render(SYSTEM_USER, true, Map.of("tools", List.of(tool))));
    }

    @Test
    void messageTextIsNotInterpretedAsTemplate() {
        String out = template.render(List.of(ChatMessage.user("{{ 7*7 }} {% if true %}x{% endif %}")), true);
        assertEquals("<|im_start|>user\n{{ 7*7 }} {% if true %}x{% endif %}<|im_end|>\n<|im_start|>assistant\n", out);
    }

    @Test
    void renderedPromptTokenizesToTheChatSpecialTokens() {
        int[] ids = tok.encode(template.render(SYSTEM_USER, true), false);
        assertEquals(151644, ids[0]); // <|im_start|>
        assertEquals(26, ids.length);
    }

    @Test
    void raiseExceptionBecomesAOneLineIpgException() {
        ChatTemplate strict = ChatTemplate.of("""
                {%- for message in messages %}
                    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
                        {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
                    {%- endif %}
                    {{- message['role'] + ': ' + message['content'] + '\\n' }}
                {%- endfor %}""", "strict.jinja", Map.of());
        assertEquals("user: hi\nassistant: hello\n",
                strict.render(List.of(ChatMessage.user("hi"), ChatMessage.assistant("hello")), false));
        var e = assertThrows(IpgException.class,
                () -> strict.render(List.of(ChatMessage.user("hi"), ChatMessage.user("again")), false));
        assertEquals("strict.jinja: the chat template rejected the conversation: "
                + "Conversation roles must alternate user/assistant/user/assistant/...", e.getMessage());
    }

    @Test
    void raiseExceptionInsideASetStatementAlsoStops() {
        ChatTemplate t = ChatTemplate.of("{% if messages|length == 0 %}{% set x = raise_exception('no messages') %}"
                + "{% endif %}ok", "t.jinja", Map.of());
        assertEquals("ok", t.render(List.of(ChatMessage.user("a")), false));
        var e = assertThrows(IpgException.class, () -> t.render(List.of(), false));
        assertEquals("t.jinja: the chat template rejected the conversation: no messages", e.getMessage());
    }

    @Test
    void brokenTemplateSyntaxNamesTheTemplate() {
        ChatTemplate t = ChatTemplate.of("{% for m in messages %}{{ m.content }}", "broken.jinja", Map.of());
        var e = assertThrows(IpgException.class, () -> t.render(List.of(ChatMessage.user("a")), false));
        assertTrue(e.getMessage().startsWith("broken.jinja: chat template failed: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void extraVariablesMayNotReplaceTheConversation() {
        assertThrows(IllegalArgumentException.class, () -> template.render(SYSTEM_USER, true, Map.of("messages", List.of())));
    }
}
