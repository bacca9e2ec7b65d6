package dev.ipg.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import org.junit.jupiter.api.Test;

class LrScheduleTest {

    @Test
    void warmsUpLinearlyThenFollowsAHalfCosineToTheMinimum() {
        LrSchedule s = new LrSchedule(1e-3, 1e-4, 10, 111);
        assertEquals(1e-4, s.at(0), 1e-15);      // (0 + 1) / 10 of the peak
        assertEquals(5e-4, s.at(4), 1e-15);
        assertEquals(1e-3, s.at(9), 1e-15);      // warmup ends at the peak
        assertEquals(1e-3, s.at(10), 1e-15);     // cosine starts at the peak
        // decay runs over steps 10 .. 110 (100 intervals): halfway is the mean of peak and min
        assertEquals(5.5e-4, s.at(60), 1e-15);
        // a quarter of the way: min + (peak - min) * (1 + cos(pi / 4)) / 2
        assertEquals(1e-4 + 9e-4 * (1 + Math.sqrt(0.5)) / 2, s.at(35), 1e-15);
        assertEquals(1e-4, s.at(110), 1e-15);    // the last step uses the minimum
        assertEquals(1e-4, s.at(500), 1e-15);
        for (int i = 11; i <= 110; i++) {
            assertTrue(s.at(i) < s.at(i - 1));
        }
    }

    @Test
    void withoutWarmupTheFirstStepUsesThePeak() {
        LrSchedule s = new LrSchedule(2.0, 0.0, 0, 3);
        assertEquals(2.0, s.at(0), 1e-15);
        assertEquals(1.0, s.at(1), 1e-15);
        assertEquals(0.0, s.at(2), 1e-15);
    }

    @Test
    void rejectsInconsistentSettings() {
        assertThrows(IpgException.class, () -> new LrSchedule(1e-3, 1e-2, 0, 10));
        assertThrows(IpgException.class, () -> new LrSchedule(1e-3, 0, 11, 10));
        assertThrows(IpgException.class, () -> new LrSchedule(0, 0, 0, 10));
    }
}
