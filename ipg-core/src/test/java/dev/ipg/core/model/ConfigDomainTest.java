package dev.ipg.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.Json;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every field of config.json that ipg reads is refused at load when outside its domain, in one line naming it. */
class ConfigDomainTest {

    @TempDir
    Path tmp;

    static ObjectNode demoConfig() {
        return Json.readObject(BrokenCheckpoints.demo().resolve("config.json"));
    }

    static ObjectNode gpt2Config() {
        return (ObjectNode) Json.parse(RandomCheckpoint.config(RandomCheckpoint.Spec.tiny(Family.GPT2)), "gpt2", false);
    }

    static String refusal(ObjectNode c) {
        return assertThrows(IpgException.class, () -> ModelConfig.fromJson(c, "m/config.json")).getMessage();
    }

    static Arguments edit(String expected, Consumer<ObjectNode> e) {
        return Arguments.of(expected, e);
    }

    static JsonNode num(String json) {
        return Json.parse(json, "a number", false);
    }

    static Stream<Arguments> outOfDomain() {
        return Stream.of(
                edit("field 'rope_theta' is 0, not a finite number > 0", c -> c.put("rope_theta", 0)),
                edit("field 'rope_theta' is -1, not a finite number > 0", c -> c.put("rope_theta", -1)),
                edit("field 'rope_theta' is Infinity, not a finite number > 0", c -> c.set("rope_theta", num("1e400"))),
                edit("field 'rms_norm_eps' is -1, not a finite number >= 0", c -> c.put("rms_norm_eps", -1)),
                edit("field 'rms_norm_eps' is 1.0E39, not a finite number >= 0", c -> c.put("rms_norm_eps", 1e39)),
                edit("field 'rms_norm_eps' is the string \"1e-5\", not a finite number >= 0", c -> c.put("rms_norm_eps", "1e-5")),
                edit("field 'hidden_size' is 128.5, not an integer", c -> c.put("hidden_size", 128.5)),
                edit("lacks integer field 'hidden_size'", c -> c.remove("hidden_size")),
                edit("field 'hidden_size' is the string \"128\", not an integer", c -> c.put("hidden_size", "128")),
                edit("field 'hidden_size' is 0, outside [1, 16777216]", c -> c.put("hidden_size", 0)),
                edit("field 'hidden_size' is 99999999999999999999999, far too large",
                        c -> c.set("hidden_size", num("99999999999999999999999"))),
                edit("field 'num_hidden_layers' is -4, outside [1, 65536]", c -> c.put("num_hidden_layers", -4)),
                edit("field 'num_attention_heads' is 4.5, not an integer", c -> c.put("num_attention_heads", 4.5)),
                edit("num_attention_heads 4 is not a multiple of num_key_value_heads 3", c -> c.put("num_key_value_heads", 3)),
                edit("num_attention_heads 4 is not a multiple of num_key_value_heads 8", c -> c.put("num_key_value_heads", 8)),
                edit("field 'head_dim' is 0, outside [1, 65536]", c -> c.put("head_dim", 0)),
                edit("head_dim 33 must be even for rotary embeddings", c -> c.put("head_dim", 33)),
                edit("field 'intermediate_size' is true, not an integer", c -> c.put("intermediate_size", true)),
                edit("field 'vocab_size' is an array, not an integer", c -> c.putArray("vocab_size")),
                edit("field 'max_position_embeddings' is -1, not an integer >= 1", c -> c.put("max_position_embeddings", -1)),
                edit("field 'eos_token_id' is 128, outside the vocabulary [0, 128)", c -> c.put("eos_token_id", 128)),
                edit("field 'bos_token_id' is -1, outside the vocabulary [0, 128)", c -> c.put("bos_token_id", -1)),
                edit("field 'eos_token_id' is 2.5, not an integer", c -> c.putArray("eos_token_id").add(2).add(2.5)),
                edit("field 'tie_word_embeddings' is the string \"false\", not true or false",
                        c -> c.put("tie_word_embeddings", "false")),
                edit("field 'hidden_act' is 3, not a string", c -> c.put("hidden_act", 3)),
                edit("field 'hidden_act' is the string \"si\\u000alu\", not an activation ipg supports (silu, swish, gelu,"
                        + " gelu_new, gelu_pytorch_tanh, gelu_fast, relu)", c -> c.put("hidden_act", "si\nlu")),
                edit("field 'rope_scaling' is the string \"linear\", not an object", c -> c.put("rope_scaling", "linear")),
                edit("field 'rope_scaling.factor' is 0, not a finite number > 0",
                        c -> c.putObject("rope_scaling").put("rope_type", "linear").put("factor", 0)),
                edit("rope_scaling.high_freq_factor 1.0 must be larger than rope_scaling.low_freq_factor 1.0",
                        c -> c.putObject("rope_scaling").put("rope_type", "llama3").put("high_freq_factor", 1.0)),
                edit("field 'rope_scaling.original_max_position_embeddings' is 0, not an integer >= 1",
                        c -> c.putObject("rope_scaling").put("rope_type", "llama3").put("original_max_position_embeddings", 0)),
                edit("hidden_size 130 is not a multiple of num_attention_heads 4 and no head_dim is given",
                        c -> { c.put("hidden_size", 130); c.remove("head_dim"); }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("outOfDomain")
    void isRefusedNamingTheFieldAndItsValue(String expected, Consumer<ObjectNode> e) {
        ObjectNode c = demoConfig();
        e.accept(c);
        assertEquals("m/config.json: " + expected, refusal(c));
    }

    @Test
    void aNameWithLineBreaksStaysOnOneLine() {
        ObjectNode c = demoConfig();
        c.putArray("architectures").add("Llama\r\nForCausalLM");
        String m = refusal(c);
        assertEquals(true, m.startsWith("unsupported architecture 'Llama\\u000d\\u000aForCausalLM' in config.json"), m);
    }

    @Test
    void gpt2FieldsAreCheckedAlike() {
        ObjectNode c = gpt2Config();
        c.put("layer_norm_epsilon", -1e-5);
        assertEquals("m/config.json: field 'layer_norm_epsilon' is -1.0E-5, not a finite number >= 0", refusal(c));
        c = gpt2Config();
        c.put("n_inner", 256.5);
        assertEquals("m/config.json: field 'n_inner' is 256.5, not an integer", refusal(c));
        c = gpt2Config();
        c.put("n_head", 5);
        assertEquals("m/config.json: n_embd 64 is not a multiple of n_head 5", refusal(c));
    }

    @Test
    void integralNumbersAndNullsAreAccepted() {
        ObjectNode c = demoConfig();
        c.put("hidden_size", 128.0);
        c.putNull("rope_scaling");
        c.putNull("bos_token_id");
        c.putArray("eos_token_id").add(2).add(1);
        ModelConfig m = ModelConfig.fromJson(c, "m/config.json");
        assertEquals(128, m.hiddenSize());
        assertEquals(-1, m.bosTokenId());
        assertEquals(java.util.List.of(2, 1), m.eosTokenIds());
        assertEquals(10000.0, m.rope().theta());
        assertEquals(1e-5f, m.normEps());
    }

    @Test
    void loadNamesTheFileAsGiven() {
        Path dir = BrokenCheckpoints.withConfig(tmp.resolve("m"), c -> c.put("rope_theta", -1));
        IpgException e = assertThrows(IpgException.class, () -> ModelConfig.load(dir));
        assertEquals(dir.resolve("config.json") + ": field 'rope_theta' is -1, not a finite number > 0", e.getMessage());
    }
}
