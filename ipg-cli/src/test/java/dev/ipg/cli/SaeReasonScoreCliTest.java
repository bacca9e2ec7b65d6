package dev.ipg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.tensor.Matrix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ipg baseline --method sae-r} end to end on the bundled demo model and its shipped SAE:
 * every latent's ReasonScore is recomputed here from the latents {@code ipg logits --sae --cache}
 * writes for each completion the run kept, with the reasoning-word windows found in the completion's
 * characters (the demo tokenizer has one character per token) and the formula of the authors'
 * compute_score.py written out again.
 */
class SaeReasonScoreCliTest {

    static final String SITE = "blocks.2.hook_resid_post";
    static final String LATENTS = SITE + ".hook_sae_acts_post";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    static Path model;
    static Path sae;
    static Path completions;
    static Map<Integer, String> vocab = new HashMap<>();
    static Map<String, Integer> ids = new HashMap<>();
    /** Per completion: the latents (generated positions x d_sae) and the generated token ids. */
    static List<float[]> latents = new ArrayList<>();
    static List<int[]> generated = new ArrayList<>();
    static int dSae;
    static double[] decoderNorm;

    @BeforeAll
    static void run() throws IOException {
        model = DemoCommandTest.bundled();
        sae = model.resolveSibling("ipg-demo-sae");
        assertTrue(Files.isRegularFile(sae.resolve("sae_weights.safetensors")), "the shipped SAE is missing: " + sae);
        completions = tmp.resolve("completions");
        var r = CliTest.run("baseline", "--model", model.toString(), "--method", "sae-r", "--site", SITE, "--sae", sae.toString(),
                "--dataset", model.resolve("support.jsonl").toString(), "--limit", "8", "--chat", "--temperature", "0.6", "--seed", "3",
                "--max-new-tokens", "96", "--words", "wait", "--completions", completions.toString(), "--out", tmp.resolve("one").toString(),
                "--threads", "2");
        assertEquals(0, r.code(), r.err());
        JsonNode tj = JSON.readTree(model.resolve("tokenizer.json").toFile());
        tj.path("model").path("vocab").fields().forEachRemaining(e -> {
            vocab.put(e.getValue().asInt(), e.getKey());
            ids.put(e.getKey(), e.getValue().asInt());
        });
        for (JsonNode a : tj.path("added_tokens")) {
            vocab.put(a.path("id").asInt(), ""); // special tokens decode to nothing
        }
        List<String> questions = Files.readAllLines(model.resolve("support.jsonl")).stream()
                .filter(l -> !l.isBlank()).map(l -> {
                    try {
                        return JSON.readTree(l).path("question").asText();
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                }).toList();
        List<String> lines = Files.readAllLines(completions.resolve("completions.jsonl")).stream().filter(l -> !l.isBlank()).toList();
        assertEquals(8, lines.size());
        for (int i = 0; i < lines.size(); i++) {
            JsonNode c = JSON.readTree(lines.get(i));
            int[] gen = new int[c.path("tokens").size()];
            for (int j = 0; j < gen.length; j++) {
                gen[j] = c.path("tokens").get(j).asInt();
            }
            // the chat template of the demo model, character by character
            List<Integer> all = new ArrayList<>();
            all.add(ids.get("<|im_start|>"));
            chars("user\n" + questions.get(c.path("index").asInt()), all);
            all.add(ids.get("<|im_end|>"));
            chars("\n", all);
            all.add(ids.get("<|im_start|>"));
            chars("assistant\n", all);
            int prompt = all.size();
            for (int t : gen) {
                all.add(t);
            }
            Path out = tmp.resolve("latents-" + i + ".safetensors");
            var lr = CliTest.run("logits", "--model", model.toString(), "--sae", sae.toString(), "--token-ids",
                    all.stream().map(String::valueOf).collect(Collectors.joining(",")), "--cache", LATENTS, "--out", out.toString());
            assertEquals(0, lr.code(), lr.err());
            try (SafetensorsFile f = SafetensorsFile.open(out)) {
                Matrix m = f.matrix(LATENTS);
                dSae = m.cols();
                float[] v = new float[gen.length * dSae];
                for (int p = 0; p < gen.length; p++) {
                    m.copyRow(prompt + p, v, p * dSae);
                }
                latents.add(v);
            }
            generated.add(gen);
        }
        try (SafetensorsFile f = SafetensorsFile.open(sae.resolve("sae_weights.safetensors"))) {
            Matrix w = f.matrix("W_dec");
            decoderNorm = new double[w.rows()];
            float[] row = new float[w.cols()];
            for (int i = 0; i < w.rows(); i++) {
                w.copyRow(i, row, 0);
                double s = 0;
                for (float x : row) {
                    s += (double) x * x;
                }
                decoderNorm[i] = Math.sqrt(s);
            }
        }
    }

    static void chars(String s, List<Integer> into) {
        for (int i = 0; i < s.length(); i++) {
            Integer id = ids.get(String.valueOf(s.charAt(i)));
            assertTrue(id != null, "no token for '" + s.charAt(i) + "'");
            into.add(id);
        }
    }

    /** D_r of one completion: the tokens of each whole-word, case-insensitive match, widened by 1 before and 2 after. */
    static boolean[] near(int[] gen, String word) {
        StringBuilder text = new StringBuilder();
        int[] start = new int[gen.length + 1];
        for (int j = 0; j < gen.length; j++) {
            start[j] = text.length();
            text.append(vocab.get(gen[j]));
        }
        start[gen.length] = text.length();
        boolean[] at = new boolean[gen.length];
        Matcher m = Pattern.compile("(?<![\\p{L}\\p{N}_])" + Pattern.quote(word) + "(?![\\p{L}\\p{N}_])",
                Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE).matcher(text);
        while (m.find()) {
            for (int j = 0; j < gen.length; j++) {
                if (start[j] < m.end() && start[j + 1] > m.start()) {
                    at[j] = true;
                }
            }
        }
        boolean[] near = new boolean[gen.length];
        for (int p = 0; p < gen.length; p++) {
            if (at[p]) {
                for (int q = Math.max(0, p - 1); q <= Math.min(gen.length - 1, p + 2); q++) {
                    near[q] = true;
                }
            }
        }
        return near;
    }

    /** ReasonScore of every latent over all completions, for the given words, with alpha. */
    static double[] expected(List<String> words, double alpha, long[] nearCount) {
        double[] sumR = new double[dSae];
        double[] sumO = new double[dSae];
        double[][] sumW = new double[words.size()][dSae];
        long[] nW = new long[words.size()];
        long nR = 0;
        long nO = 0;
        for (int c = 0; c < latents.size(); c++) {
            int[] gen = generated.get(c);
            float[] f = latents.get(c);
            boolean[][] nearW = new boolean[words.size()][];
            for (int r = 0; r < words.size(); r++) {
                nearW[r] = near(gen, words.get(r));
            }
            for (int p = 0; p < gen.length; p++) {
                boolean any = false;
                for (int r = 0; r < words.size(); r++) {
                    if (nearW[r][p]) {
                        any = true;
                        nW[r]++;
                        for (int i = 0; i < dSae; i++) {
                            sumW[r][i] += f[p * dSae + i] * decoderNorm[i];
                        }
                    }
                }
                for (int i = 0; i < dSae; i++) {
                    (any ? sumR : sumO)[i] += f[p * dSae + i] * decoderNorm[i];
                }
                if (any) {
                    nR++;
                } else {
                    nO++;
                }
            }
        }
        nearCount[0] = nR;
        double totR = 0;
        double totO = 0;
        for (int i = 0; i < dSae; i++) {
            totR += sumR[i] / nR;
            totO += sumO[i] / nO;
        }
        double[] s = new double[dSae];
        for (int i = 0; i < dSae; i++) {
            double h = 1;
            if (words.size() > 1) {
                double tot = 0;
                for (int r = 0; r < words.size(); r++) {
                    tot += nW[r] > 0 ? sumW[r][i] / nW[r] : 0;
                }
                h = 0;
                for (int r = 0; r < words.size(); r++) {
                    double p = (nW[r] > 0 ? sumW[r][i] / nW[r] : 0) / (tot + 1e-12);
                    h -= p > 0 ? p * Math.log(p) : 0;
                }
                h /= Math.log(words.size());
            }
            s[i] = sumR[i] / nR / (totR + 1e-12) * Math.pow(h, alpha) - sumO[i] / nO / (totO + 1e-12);
        }
        return s;
    }

    static float[] scores(Path run) {
        try (SafetensorsFile f = SafetensorsFile.open(run.resolve("scores.safetensors"))) {
            Matrix m = f.matrix(LATENTS + "/scores");
            float[] v = new float[m.rows() * m.cols()];
            m.copyRow(0, v, 0);
            if (m.rows() > 1) {
                for (int r = 1; r < m.rows(); r++) {
                    m.copyRow(r, v, r * m.cols());
                }
            }
            return v;
        }
    }

    static Integer[] order(double[] s) {
        Integer[] o = new Integer[s.length];
        for (int i = 0; i < o.length; i++) {
            o[i] = i;
        }
        Arrays.sort(o, (a, b) -> Double.compare(s[b], s[a]));
        return o;
    }

    @Test
    void everyLatentsScoreIsTheReasoningShareMinusTheShareElsewhere() throws IOException {
        for (double n : decoderNorm) {
            assertEquals(1.0, n, 1e-3, "the shipped SAE keeps its decoder rows at unit norm");
        }
        long[] near = new long[1];
        double[] want = expected(List.of("wait"), 0.7, near);
        assertTrue(near[0] > 0, "the sampled completions reflect at least once");
        float[] got = scores(tmp.resolve("one"));
        assertEquals(dSae, got.length);
        assertEquals(512, dSae);
        double spread = 0;
        for (int i = 0; i < dSae; i++) {
            assertEquals(want[i], got[i], 1e-5, "latent " + i);
            spread = Math.max(spread, Math.abs(want[i]));
        }
        assertTrue(spread > 1e-3, "the scores are not all zero");
        // the top latents in top.csv, best first, with their scores
        List<String> rows = Files.readAllLines(tmp.resolve("one").resolve("top.csv"));
        Integer[] o = order(want);
        for (int r = 0; r < 5; r++) {
            String[] f = rows.get(r + 1).split(",");
            assertEquals(LATENTS, f[0]);
            assertEquals(o[r].intValue(), Integer.parseInt(f[2]), "rank " + (r + 1));
            assertEquals(want[o[r]], Double.parseDouble(f[3]), 1e-5);
        }
        JsonNode res = JSON.readTree(tmp.resolve("one").resolve("run.json").toFile()).path("results");
        assertEquals(near[0], res.path("positions_near_reasoning_words").asLong());
        assertEquals(near[0], res.path("positions_per_word").path("wait").asLong());
    }

    @Test
    void aWordThatNeverOccursZeroesTheEntropyTermAndIsReported() {
        Path run = tmp.resolve("two");
        var r = CliTest.run("baseline", "--model", model.toString(), "--method", "sae-r", "--site", SITE, "--sae", sae.toString(),
                "--dataset", model.resolve("support.jsonl").toString(), "--limit", "8", "--chat", "--temperature", "0.6", "--seed", "3",
                "--max-new-tokens", "96", "--words", "wait,alternatively", "--window", "1,2", "--entropy-power", "0.7",
                "--completions", completions.toString(), "--out", run.toString(), "--threads", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("only 'wait' occurs"), r.err());
        long[] near = new long[1];
        double[] want = expected(List.of("wait", "alternatively"), 0.7, near);
        float[] got = scores(run);
        for (int i = 0; i < dSae; i++) {
            assertEquals(want[i], got[i], 1e-5, "latent " + i);
            assertTrue(got[i] <= 1e-7, "H = 0: only minus the share elsewhere is left, latent " + i);
        }
    }

    @Test
    void aBadWindowIsAOneLineError() {
        var r = CliTest.run("baseline", "--model", model.toString(), "--method", "sae-r", "--site", SITE, "--sae", sae.toString(),
                "--dataset", model.resolve("support.jsonl").toString(), "--limit", "2", "--window", "1,x", "--out", tmp.resolve("bad").toString());
        assertTrue(r.code() != 0, r.err());
        assertEquals("ipg: --window: expected BEFORE,AFTER or T (whole numbers), got '1,x'", r.err().strip());
    }
}
