package dev.ipg.core.sae;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.model.Site;
import dev.ipg.core.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The SAELens format (sae_lens {@code SAE.save_model} / {@code SAE.load_from_disk}): a directory
 * holding
 *
 * <pre>
 *   cfg.json                 {"architecture": "standard" | "jumprelu" | "topk",
 *                             "d_in": int, "d_sae": int, "dtype": "float32", "device": "cpu",
 *                             "apply_b_dec_to_input": bool (default true),
 *                             "normalize_activations": "none" | "constant_norm_rescale" | "layer_norm"
 *                                                      | "expected_average_only_in",
 *                             "reshape_activations": "none" | "hook_z",
 *                             "k": int (topk), "rescale_acts_by_decoder_norm": bool (topk),
 *                             "metadata": {"hook_name": str, "hook_head_index": null, "sae_lens_version": str, ...}}
 *   sae_weights.safetensors  W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in],
 *                            threshold [d_sae] (jumprelu)
 * </pre>
 *
 * Configurations written before SAELens 6 (no {@code sae_lens_version} >= 6 in the metadata) keep
 * {@code hook_name} (or {@code hook_point}) at the top level and name the non-linearity
 * {@code activation_fn} / {@code activation_fn_str} ("relu" or "topk", k in
 * {@code activation_fn_kwargs.k}); they are read the way SAELens upgrades them. The encoder is
 * {@code pre = (norm_in(z) - b_dec * apply_b_dec_to_input) @ W_enc + b_enc}; "standard" applies
 * ReLU, "jumprelu" {@code relu(pre) * (pre > threshold)}, "topk" keeps the k largest of pre and
 * applies ReLU to them. The decoder is {@code norm_out(f @ W_dec + b_dec)}.
 *
 * <p>Refused, with the field named: other architectures (gated, transcoders, ...),
 * {@code expected_average_only_in} (its scaling factor lives outside the directory; fold it into
 * the weights first), {@code rescale_acts_by_decoder_norm}, a head index, and a hook name that is
 * not an ipg site.
 */
public final class SaeLensFormat {

    public static final String CONFIG = "cfg.json";
    public static final String WEIGHTS = "sae_weights.safetensors";

    private SaeLensFormat() {
    }

    /** Whether {@code dir} looks like an SAELens directory. */
    public static boolean isIn(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG)) && Files.isRegularFile(dir.resolve(WEIGHTS));
    }

    /** Reads an SAELens directory. */
    public static Sae read(Path dir) {
        Path cfgFile = dir.resolve(CONFIG);
        ObjectNode cfg = Json.readObject(cfgFile);
        JsonNode meta = cfg.path("metadata");
        String version = text(cfg, "sae_lens_version", null);
        if (version == null && meta.isObject()) {
            version = text(meta, "sae_lens_version", null);
        }
        boolean v6 = version != null && majorAtLeast6(version);
        String hookName = null;
        if (meta.isObject()) {
            hookName = text(meta, "hook_name", null);
        }
        if (hookName == null) {
            hookName = text(cfg, "hook_name", text(cfg, "hook_point", null));
        }
        if (hookName == null) {
            throw new IpgException(cfgFile + ": no hook_name (in metadata or at the top level)");
        }
        Site site = site(cfgFile, "hook_name", hookName);
        JsonNode head = meta.isObject() && meta.has("hook_head_index") ? meta.get("hook_head_index") : cfg.path("hook_head_index");
        if (!head.isMissingNode() && !head.isNull()) {
            throw new IpgException(cfgFile + ": hook_head_index " + head + " is not supported (SAEs on one head)");
        }
        String arch = text(cfg, "architecture", null);
        int k = 0;
        if (!v6) {
            String fn = text(cfg, "activation_fn", text(cfg, "activation_fn_str", "relu"));
            if (arch == null) {
                arch = "standard";
            }
            JsonNode kw = cfg.path("activation_fn_kwargs").path("k");
            if (fn.equals("topk") && kw.isInt()) {
                arch = "topk";
                k = kw.asInt();
            } else if (!fn.equals("relu") && !fn.equals("topk")) {
                throw new IpgException(cfgFile + ": activation_fn '" + fn + "' is not supported (relu or topk)");
            }
        } else if (arch == null) {
            throw new IpgException(cfgFile + ": no architecture");
        }
        Sae.Activation act = switch (arch) {
            case "standard" -> Sae.Activation.RELU;
            case "jumprelu" -> Sae.Activation.JUMPRELU;
            case "topk" -> Sae.Activation.TOPK;
            default -> throw new IpgException(cfgFile + ": architecture '" + arch + "' is not supported (standard, jumprelu or topk)");
        };
        if (act == Sae.Activation.TOPK && k == 0) {
            JsonNode kn = cfg.path("k");
            if (!kn.canConvertToInt() || !kn.isIntegralNumber()) {
                throw new IpgException(cfgFile + ": architecture topk needs an integer k");
            }
            k = kn.asInt();
        }
        if (cfg.path("rescale_acts_by_decoder_norm").asBoolean(false)) {
            throw new IpgException(cfgFile + ": rescale_acts_by_decoder_norm = true is not supported");
        }
        if (cfg.path("finetuning_scaling_factor").asBoolean(false)) {
            throw new IpgException(cfgFile + ": finetuning_scaling_factor = true is not supported");
        }
        String reshape = text(cfg, "reshape_activations", "none");
        if (!reshape.equals("none") && !(reshape.equals("hook_z") && site.kind() == Site.Kind.ATTN_Z)) {
            throw new IpgException(cfgFile + ": reshape_activations '" + reshape + "' does not fit " + site);
        }
        JsonNode normNode = cfg.path("normalize_activations");
        String normName = normNode.isBoolean() ? (normNode.asBoolean() ? "expected_average_only_in" : "none")
                : normNode.isNull() || normNode.isMissingNode() ? "none" : normNode.asText();
        Sae.Normalization norm = null;
        for (Sae.Normalization n : Sae.Normalization.values()) {
            if (n.json().equals(normName)) {
                norm = n;
            }
        }
        if (norm == null) {
            throw new IpgException(cfgFile + ": normalize_activations '" + normName + "' is not supported"
                    + (normName.equals("expected_average_only_in")
                    ? " (its scaling factor is not in the directory: fold it into W_enc, W_dec and b_dec and set \"none\")"
                    : " (none, constant_norm_rescale or layer_norm)"));
        }
        int dIn = positive(cfg, cfgFile, "d_in");
        int dSae = positive(cfg, cfgFile, "d_sae");
        boolean applyBDec = cfg.path("apply_b_dec_to_input").asBoolean(true);
        Path wFile = dir.resolve(WEIGHTS);
        try (SafetensorsFile f = SafetensorsFile.open(wFile)) {
            float[] wEnc = Tensors.transpose(Tensors.read(f, "W_enc", dIn, dSae), dIn, dSae);
            float[] bEnc = Tensors.read(f, "b_enc", dSae);
            float[] wDec = Tensors.read(f, "W_dec", dSae, dIn);
            float[] bDec = Tensors.read(f, "b_dec", dIn);
            float[] threshold = act == Sae.Activation.JUMPRELU ? Tensors.read(f, "threshold", dSae) : null;
            return new Sae(cfgFile.toString(), hookName, site, dIn, dSae, act, k, applyBDec, norm, wEnc, bEnc, wDec, bDec, threshold);
        }
    }

    /**
     * Writes {@code sae} as SAELens 6 writes it ({@code metadata.sae_lens_version} "6.0.0", so SAELens
     * reads the configuration as current). {@code modelName} goes into the metadata.
     */
    public static void write(Sae sae, Path dir, String modelName) {
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new IpgException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        int dIn = sae.dIn();
        int dSae = sae.dSae();
        var w = new SafetensorsWriter()
                .add("W_enc", Tensors.transpose(sae.wEnc(), dSae, dIn), new long[] {dIn, dSae}, DType.F32)
                .add("b_enc", sae.bEnc(), new long[] {dSae}, DType.F32)
                .add("W_dec", sae.wDec(), new long[] {dSae, dIn}, DType.F32)
                .add("b_dec", sae.bDec(), new long[] {dIn}, DType.F32);
        if (sae.threshold() != null) {
            w.add("threshold", sae.threshold(), new long[] {dSae}, DType.F32);
        }
        w.write(dir.resolve(WEIGHTS));
        ObjectNode cfg = Json.object();
        cfg.put("architecture", switch (sae.activation()) {
            case RELU -> "standard";
            case JUMPRELU -> "jumprelu";
            case TOPK -> "topk";
        });
        cfg.put("d_in", dIn);
        cfg.put("d_sae", dSae);
        cfg.put("dtype", "float32");
        cfg.put("device", "cpu");
        cfg.put("apply_b_dec_to_input", sae.applyBDecToInput());
        cfg.put("normalize_activations", sae.normalization().json());
        cfg.put("reshape_activations", sae.site().kind() == Site.Kind.ATTN_Z ? "hook_z" : "none");
        if (sae.activation() == Sae.Activation.TOPK) {
            cfg.put("k", sae.k());
            cfg.put("rescale_acts_by_decoder_norm", false);
        }
        ObjectNode meta = cfg.putObject("metadata");
        meta.put("sae_lens_version", "6.0.0");
        meta.put("model_name", modelName);
        meta.put("hook_name", sae.site().toString());
        meta.putNull("hook_head_index");
        meta.put("prepend_bos", true);
        Json.write(dir.resolve(CONFIG), cfg);
    }

    /** The ipg site of a hook name; one clear error naming the file and field otherwise. */
    static Site site(Path file, String field, String hookName) {
        try {
            return Site.parse(hookName);
        } catch (IpgException e) {
            throw new IpgException(file + ": " + field + " '" + hookName + "' is not an ipg site (blocks.L.hook_resid_pre, "
                    + "blocks.L.hook_resid_mid, blocks.L.hook_resid_post, blocks.L.mlp.hook_post or blocks.L.attn.hook_z)");
        }
    }

    private static boolean majorAtLeast6(String version) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)").matcher(version);
        return m.lookingAt() && Integer.parseInt(m.group(1)) >= 6;
    }

    static String text(JsonNode o, String field, String dflt) {
        JsonNode n = o.path(field);
        return n.isTextual() ? n.asText() : dflt;
    }

    static int positive(JsonNode cfg, Path file, String field) {
        JsonNode n = cfg.path(field);
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() <= 0) {
            throw new IpgException(file + ": " + field + " must be a positive integer, got "
                    + (n.isMissingNode() ? "nothing" : n.toString()));
        }
        return n.asInt();
    }
}
