package dev.ipg.core.sae;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.model.Site;
import dev.ipg.core.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The EleutherAI sparsify format ({@code SparseCoder.save_to_disk} / {@code load_from_disk}): a
 * directory named after its hook point holding
 *
 * <pre>
 *   cfg.json         {"activation": "topk", "expansion_factor": int, "normalize_decoder": bool,
 *                     "num_latents": int (0: d_in * expansion_factor), "k": int, "multi_topk": bool,
 *                     "skip_connection": bool, "transcode": bool, "d_in": int}
 *   sae.safetensors  encoder.weight [num_latents, d_in], encoder.bias [num_latents],
 *                    W_dec [num_latents, d_in], b_dec [d_in]
 * </pre>
 *
 * A training run writes one such directory per hook point under its output directory
 * ({@code OUT/layers.6/cfg.json}, ...). The hook point is a module of the Hugging Face model whose
 * output is read: {@code layers.L} (optionally prefixed, {@code model.layers.L}, {@code h.L}) is a
 * decoder block, whose output is ipg's {@code blocks.L.hook_resid_post}. The encoder is
 * {@code top_k(relu((z - b_dec) @ encoder.weight^T + encoder.bias))}, always subtracting b_dec, no
 * input normalization; the decoder {@code f @ W_dec + b_dec}. {@code multi_topk} only changes the
 * training loss. Refused, with the field named: {@code activation} "groupmax", transcoders, skip
 * connections, and any other hook point.
 */
public final class SparsifyFormat {

    public static final String CONFIG = "cfg.json";
    public static final String WEIGHTS = "sae.safetensors";

    private static final Pattern BLOCK = Pattern.compile("(?:[A-Za-z_]+\\.)*(?:layers|h)\\.(\\d+)");

    private SparsifyFormat() {
    }

    /** Whether {@code dir} looks like one sparsify SAE. */
    public static boolean isIn(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG)) && Files.isRegularFile(dir.resolve(WEIGHTS));
    }

    /** The ipg site of a sparsify hook point, or null if it names none. */
    public static Site siteOf(String hookpoint) {
        Matcher m = BLOCK.matcher(hookpoint);
        return m.matches() ? new Site(Integer.parseInt(m.group(1)), Site.Kind.RESID_POST) : null;
    }

    /** The sparsify hook point of an ipg site ({@code layers.L} for {@code blocks.L.hook_resid_post}), or null. */
    public static String hookpointOf(Site site) {
        return site.kind() == Site.Kind.RESID_POST ? "layers." + site.layer() : null;
    }

    /** Reads one sparsify SAE directory; its name is the hook point. */
    public static Sae read(Path dir) {
        Path cfgFile = dir.resolve(CONFIG);
        ObjectNode cfg = Json.readObject(cfgFile);
        Path name = dir.toAbsolutePath().normalize().getFileName();
        String hookpoint = name == null ? "" : name.toString();
        Site site = siteOf(hookpoint);
        if (site == null) {
            throw new IpgException(dir + ": the hook point '" + hookpoint + "' (the directory name) is not a decoder block "
                    + "(layers.L); ipg maps layers.L to blocks.L.hook_resid_post");
        }
        String activation = SaeLensFormat.text(cfg, "activation", "topk");
        if (!activation.equals("topk")) {
            throw new IpgException(cfgFile + ": activation '" + activation + "' is not supported (topk)");
        }
        if (cfg.path("transcode").asBoolean(false)) {
            throw new IpgException(cfgFile + ": transcode = true: a transcoder is not an autoencoder of one site");
        }
        if (cfg.path("skip_connection").asBoolean(false)) {
            throw new IpgException(cfgFile + ": skip_connection = true is not supported");
        }
        int dIn = SaeLensFormat.positive(cfg, cfgFile, "d_in");
        int k = SaeLensFormat.positive(cfg, cfgFile, "k");
        JsonNode nl = cfg.path("num_latents");
        int latents = nl.isIntegralNumber() ? nl.asInt() : 0;
        if (latents < 0) {
            throw new IpgException(cfgFile + ": num_latents must be >= 0, got " + latents);
        }
        if (latents == 0) {
            JsonNode ef = cfg.path("expansion_factor");
            int e = ef.isMissingNode() ? 32 : ef.isIntegralNumber() ? ef.asInt() : -1;
            if (e <= 0) {
                throw new IpgException(cfgFile + ": expansion_factor must be a positive integer when num_latents is 0, got " + ef);
            }
            latents = Math.multiplyExact(dIn, e);
        }
        if (k > latents) {
            throw new IpgException(cfgFile + ": k " + k + " exceeds the " + latents + " latents");
        }
        Path wFile = dir.resolve(WEIGHTS);
        try (SafetensorsFile f = SafetensorsFile.open(wFile)) {
            float[] wEnc = Tensors.read(f, "encoder.weight", latents, dIn);
            float[] bEnc = Tensors.read(f, "encoder.bias", latents);
            float[] wDec = Tensors.read(f, "W_dec", latents, dIn);
            float[] bDec = Tensors.read(f, "b_dec", dIn);
            return new Sae(cfgFile.toString(), hookpoint, site, dIn, latents, Sae.Activation.TOPK, k, true,
                    Sae.Normalization.NONE, wEnc, bEnc, wDec, bDec, null);
        }
    }

    /**
     * Writes {@code sae} (TopK, b_dec subtracted, no normalization, at a block output) into
     * {@code parent/layers.L} as sparsify does; returns that directory.
     */
    public static Path write(Sae sae, Path parent) {
        String hp = hookpointOf(sae.site());
        if (hp == null || sae.activation() != Sae.Activation.TOPK || !sae.applyBDecToInput()
                || sae.normalization() != Sae.Normalization.NONE) {
            throw new IpgException("the sparsify format holds TopK SAEs on block outputs (hook_resid_post) that subtract "
                    + "b_dec and do not normalize; " + sae + " is not one");
        }
        Path dir = parent.resolve(hp);
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new IpgException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        int dIn = sae.dIn();
        int n = sae.dSae();
        new SafetensorsWriter()
                .add("encoder.weight", sae.wEnc(), new long[] {n, dIn}, DType.F32)
                .add("encoder.bias", sae.bEnc(), new long[] {n}, DType.F32)
                .add("W_dec", sae.wDec(), new long[] {n, dIn}, DType.F32)
                .add("b_dec", sae.bDec(), new long[] {dIn}, DType.F32)
                .write(dir.resolve(WEIGHTS));
        ObjectNode cfg = Json.object();
        cfg.put("activation", "topk");
        cfg.put("expansion_factor", n % dIn == 0 ? n / dIn : 32);
        cfg.put("normalize_decoder", true);
        cfg.put("num_latents", n);
        cfg.put("k", sae.k());
        cfg.put("multi_topk", false);
        cfg.put("skip_connection", false);
        cfg.put("transcode", false);
        cfg.put("d_in", dIn);
        Json.write(dir.resolve(CONFIG), cfg);
        return dir;
    }
}
