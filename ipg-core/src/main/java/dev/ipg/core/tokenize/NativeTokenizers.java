package dev.ipg.core.tokenize;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.ipg.core.IpgException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * The one door to DJL's binding of the Hugging Face tokenizers library (Rust, shipped as a native
 * library inside the DJL jar).
 *
 * <p>Before DJL's first use this sets the system properties that keep it off the network: {@code
 * ai.djl.offline=true} and {@code OPT_OUT_TRACKING=true} (otherwise {@code
 * HuggingFaceTokenizer.newInstance} queries the EC2 instance-metadata address for usage
 * telemetry). Nothing is ever downloaded: DJL copies the native library for this platform out of
 * its jar into its cache directory and loads it from there. That directory is DJL's: {@code
 * ~/.djl.ai/tokenizers}, or {@code .djl.ai} under {@code java.io.tmpdir} when the home directory is
 * not writable, or wherever {@code ENGINE_CACHE_DIR} / {@code DJL_CACHE_DIR} (environment variables
 * or system properties) point. We do not move it to a fixed name under a shared temporary
 * directory, where another user could plant a library for us to load.
 */
final class NativeTokenizers {

    private NativeTokenizers() {}

    /** Runs once, on first use of this class. */
    private static final class Settings {
        static {
            System.setProperty("ai.djl.offline", "true");
            System.setProperty("OPT_OUT_TRACKING", "true");
        }

        static void ensure() {
            // the static initializer above has run
        }
    }

    /**
     * A tokenizer from the text of a {@code tokenizer.json}, with no truncation, no padding and no
     * special tokens added unless asked for per call.
     *
     * @param file the file the JSON came from, for error messages
     */
    static HuggingFaceTokenizer create(String json, Path file) {
        Settings.ensure();
        var options = Map.of(
                "addSpecialTokens", "false",
                "truncation", "false",
                "padding", "false");
        try {
            return HuggingFaceTokenizer.newInstance(
                    new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), options);
        } catch (IOException e) {
            throw new IpgException(file + ": cannot be read: " + e.getMessage(), e);
        } catch (UnsatisfiedLinkError | ExceptionInInitializerError | NoClassDefFoundError e) {
            throw new IpgException("cannot load the native Hugging Face tokenizers library on "
                    + System.getProperty("os.name") + "/" + System.getProperty("os.arch") + ": " + e, e);
        } catch (RuntimeException e) {
            if (e.getClass().getName().equals("ai.djl.engine.EngineException")) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                throw new IpgException("cannot load the native Hugging Face tokenizers library on "
                        + System.getProperty("os.name") + "/" + System.getProperty("os.arch") + ": " + cause, e);
            }
            throw new IpgException(file + ": the Hugging Face tokenizers library rejects it: " + oneLine(e.getMessage()), e);
        }
    }

    static String oneLine(String s) {
        return s == null ? "no details" : s.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
