package dev.ipg.core.run;

/** Deterministic seeds for the parts of a run (prompt, site, path point), independent of order and threads. */
public final class Seeds {

    /** The stream label of Integrated Policy Gradient itself. */
    public static final String IPG = "ipg";

    private Seeds() {
    }

    /**
     * The seed of prompt {@code prompt} at site number {@code site} of a run whose random streams
     * carry {@code stream}: IPG's are {@code derive(seed, prompt, site)}; every other label (e.g.
     * the raw policy gradient's "pg") first mixes in a hash of the label, so two methods run with
     * the same seed draw independent samples.
     */
    public static long forPrompt(long seed, String stream, int prompt, int site) {
        return IPG.equals(stream) ? derive(seed, prompt, site) : derive(seed, label(stream), prompt, site);
    }

    /** A 64-bit hash of a label (SplitMix64 over its UTF-8 bytes). */
    static long label(String s) {
        long h = 0x51ED270B27D4A1F3L;
        for (byte b : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            h = mix(h ^ (b & 0xFF));
        }
        return h;
    }

    /** A seed derived from {@code base} and the given parts (SplitMix64 finalizer over each). */
    public static long derive(long base, long... parts) {
        long h = mix(base ^ 0x9E3779B97F4A7C15L);
        for (long p : parts) {
            h = mix(h ^ mix(p + 0x632BE59BD9B4E019L));
        }
        return h;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
