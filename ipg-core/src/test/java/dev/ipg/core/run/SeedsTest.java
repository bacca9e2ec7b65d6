package dev.ipg.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SeedsTest {

    @Test
    void pgStreamsAreDerivedFromTheirOwnLabel() {
        // IPG keeps its derivation (so earlier IPG runs reproduce); any other label gives other seeds
        assertEquals(Seeds.derive(7, 3, 1), Seeds.forPrompt(7, Seeds.IPG, 3, 1));
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            for (int s = 0; s < 3; s++) {
                seen.add(Seeds.forPrompt(7, "ipg", i, s));
                seen.add(Seeds.forPrompt(7, "pg", i, s));
            }
        }
        assertEquals(300, seen.size(), "no pg seed equals an IPG seed");
        assertNotEquals(Seeds.label("pg"), Seeds.label("ig"));
    }
}
