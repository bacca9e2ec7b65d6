package dev.ipg.core;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.SortedSet;
import java.util.TreeSet;

/** The shape of a JSON file: every key as a path ("/rows/0/wilson95/lower"), arrays by index. */
public final class JsonKeys {

    private JsonKeys() {
    }

    /** The keys of {@code j}, recursively. */
    public static SortedSet<String> of(JsonNode j) {
        return of(j, "");
    }

    private static SortedSet<String> of(JsonNode j, String at) {
        SortedSet<String> out = new TreeSet<>();
        if (j.isObject()) {
            j.properties().forEach(e -> {
                out.add(at + "/" + e.getKey());
                out.addAll(of(e.getValue(), at + "/" + e.getKey()));
            });
        } else if (j.isArray()) {
            for (int i = 0; i < j.size(); i++) {
                out.addAll(of(j.get(i), at + "/" + i));
            }
        }
        return out;
    }
}
