package dev.ipg.core.sae;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.io.Json;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** What identifies an SAE in run records: its shape and a sha-256 of its weights. */
public final class SaeFingerprint {

    private SaeFingerprint() {
    }

    /** sha-256 over the little-endian float bytes of W_enc, b_enc, W_dec, b_dec (and threshold). */
    public static String sha256(Sae sae) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (float[] a : new float[][] {sae.wEnc(), sae.bEnc(), sae.wDec(), sae.bDec(), sae.threshold()}) {
                if (a == null) {
                    continue;
                }
                ByteBuffer b = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(a);
                md.update(b);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The record written into run configurations. */
    public static ObjectNode json(Sae sae) {
        ObjectNode j = Json.object();
        j.put("hook_name", sae.hookName());
        j.put("site", sae.site().toString());
        j.put("d_in", sae.dIn());
        j.put("d_sae", sae.dSae());
        j.put("activation", sae.activation().name().toLowerCase(java.util.Locale.ROOT));
        if (sae.activation() == Sae.Activation.TOPK) {
            j.put("k", sae.k());
        }
        j.put("normalize_activations", sae.normalization().json());
        j.put("weights_sha256", sha256(sae));
        return j;
    }
}
