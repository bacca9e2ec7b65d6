package dev.ipg.core.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ipg.core.IpgException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The optional {@code generation_config.json} of a model directory: end-of-sequence ids and
 * default sampling. Absent fields are null / empty.
 */
public record GenerationDefaults(List<Integer> eosTokenIds, Integer bosTokenId, Integer padTokenId,
                                 Boolean doSample, Double temperature, Double topP, Integer topK) {

    public GenerationDefaults {
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    /** Nothing known. */
    public static GenerationDefaults empty() {
        return new GenerationDefaults(List.of(), null, null, null, null, null, null);
    }

    /** Reads {@code generation_config.json} if the directory has one. */
    public static GenerationDefaults load(Path modelDir) {
        Path f = modelDir.resolve("generation_config.json");
        if (!Files.exists(f)) {
            return empty();
        }
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(Files.readString(f));
        } catch (IOException e) {
            throw new IpgException(f + " is not valid JSON: "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
        if (n == null || !n.isObject()) {
            throw new IpgException(f + " is not a JSON object");
        }
        List<Integer> eos = new ArrayList<>();
        JsonNode e = n.get("eos_token_id");
        if (e != null && e.isArray()) {
            e.forEach(x -> eos.add(x.asInt()));
        } else if (e != null && e.canConvertToInt()) {
            eos.add(e.asInt());
        }
        return new GenerationDefaults(eos, intOrNull(n, "bos_token_id"), intOrNull(n, "pad_token_id"),
                n.has("do_sample") ? n.get("do_sample").asBoolean() : null, dblOrNull(n, "temperature"),
                dblOrNull(n, "top_p"), intOrNull(n, "top_k"));
    }

    private static Integer intOrNull(JsonNode n, String k) {
        JsonNode v = n.get(k);
        return v != null && v.canConvertToInt() ? v.asInt() : null;
    }

    private static Double dblOrNull(JsonNode n, String k) {
        JsonNode v = n.get(k);
        return v != null && v.isNumber() ? v.asDouble() : null;
    }
}
