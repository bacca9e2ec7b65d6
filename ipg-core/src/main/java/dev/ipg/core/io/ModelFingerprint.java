package dev.ipg.core.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Identifies a model directory.
 *
 * <ul>
 *   <li>{@link #of}: sha256 over {@code config.json} and the header (tensor names, dtypes, shapes,
 *       offsets) of every safetensors file: the layout, cheap to compute.
 *   <li>{@link #content}: the bytes that decide what the model computes and how text becomes ids:
 *       a content hash of every weight file, and sha256 of {@code tokenizer.json}, {@code
 *       tokenizer_config.json}, the chat template and {@code chat_template.jinja}. Two runs are
 *       the same model only when both agree.
 * </ul>
 *
 * <p>A weight file's content hash ({@link #weightsHash}) is sha256 over the sha256 of each
 * consecutive 64 MiB chunk (hashed in parallel) and the file's length, so it is independent of
 * the thread count. It is computed once per file version and cached, keyed by the file's size,
 * modification time, change time and inode: in {@value #CACHE_FILE} beside the model when that
 * directory is writable, else in the per-user cache directory ({@code $XDG_CACHE_HOME/ipg} or
 * {@code ~/.cache/ipg}). Rewriting, copying or moving a file changes its change time or inode
 * and so forces a new hash; an unreadable or foreign cache is ignored.
 */
public final class ModelFingerprint {

    /** The cache of weight hashes beside a model. */
    public static final String CACHE_FILE = ".ipg-content-hash.json";
    /** The chunk size of the weight hash. */
    static final int CHUNK = 64 << 20;
    private static final String ALGORITHM = "sha256 of 64 MiB chunk digests and length";
    /** Tokenizer files whose bytes are part of the identity; "absent" when a file does not exist. */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json", "chat_template.jinja");

    private ModelFingerprint() {
    }

    /** The hex sha256 fingerprint of the model in {@code dir} whose weight files are {@code files}. */
    public static String of(Path dir, List<Path> files) {
        try {
            MessageDigest md = sha256();
            md.update(Files.readAllBytes(dir.resolve("config.json")));
            for (Path f : files) {
                md.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
                try (InputStream in = Files.newInputStream(f)) {
                    byte[] len = in.readNBytes(8);
                    md.update(len);
                    long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
                    md.update(in.readNBytes((int) Math.max(0, Math.min(n, SafetensorsFile.MAX_HEADER_BYTES))));
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new IpgException(dir + ": cannot fingerprint the model: " + AtomicFiles.reason(e), e);
        }
    }

    /**
     * The content identity of the model in {@code dir}: {@code {"weights": {FILE: hash, ...},
     * "tokenizer.json": sha256, "tokenizer_config.json": sha256, "chat_template": sha256,
     * "chat_template.jinja": sha256}} ("absent" for a file that does not exist; {@code
     * chat_template} is the template tokenizer_config.json holds, so a changed template is named
     * as such).
     */
    public static ObjectNode content(Path dir, List<Path> files) {
        ObjectNode c = Json.object();
        ObjectNode w = c.putObject("weights");
        Map<String, String> hashes = weightsHash(dir, files, true);
        hashes.forEach(w::put);
        for (String name : TOKENIZER_FILES) {
            Path f = dir.resolve(name);
            c.put(name, Files.exists(f) ? sha256(f) : "absent");
            if (name.equals("tokenizer_config.json")) {
                c.put("chat_template", Files.exists(f) ? chatTemplateHash(f) : "absent");
            }
        }
        return c;
    }

    /** sha256 of the {@code chat_template} value of tokenizer_config.json (its JSON text), or "absent". */
    private static String chatTemplateHash(Path tokenizerConfig) {
        JsonNode t;
        try {
            t = Json.read(tokenizerConfig).get("chat_template");
        } catch (IpgException e) {
            return "unreadable"; // the whole file's hash still identifies it; the tokenizer reports the problem
        }
        if (t == null || t.isNull()) {
            return "absent";
        }
        MessageDigest md = sha256();
        return HexFormat.of().formatHex(md.digest(Json.toBytes(t)));
    }

    /**
     * The content hash of each weight file, by file name, in the order of {@code files}; with
     * {@code useCache}, read from and recorded in the cache (see the class comment).
     */
    public static Map<String, String> weightsHash(Path dir, List<Path> files, boolean useCache) {
        Map<String, String> out = new LinkedHashMap<>();
        Path[] caches = useCache ? cacheFiles(dir) : new Path[0];
        ObjectNode cache = null;
        for (Path c : caches) {
            cache = readCache(c, dir);
            if (cache != null) {
                break;
            }
        }
        boolean changed = false;
        if (cache == null) {
            cache = newCache(dir);
        }
        ObjectNode entries = (ObjectNode) cache.get("files");
        for (Path f : files) {
            String name = f.getFileName().toString();
            ObjectNode key = key(f);
            JsonNode e = entries.get(name);
            if (e instanceof ObjectNode old && old.path("sha256").isTextual() && key.equals(withoutHash(old))) {
                out.put(name, old.get("sha256").asText());
                continue;
            }
            String h = fileHash(f);
            out.put(name, h);
            ObjectNode entry = key.deepCopy();
            entry.put("sha256", h);
            entries.set(name, entry);
            changed = true;
        }
        if (useCache && changed) {
            for (Path c : caches) {
                if (writeCache(c, cache)) {
                    break;
                }
            }
        }
        return out;
    }

    /**
     * The content hash of one file: sha256 over the sha256 of each consecutive {@value #CHUNK}-byte
     * chunk, then the file's length as 8 little-endian bytes. Chunks are hashed in parallel.
     */
    public static String fileHash(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            int chunks = (int) Math.max(1, (size + CHUNK - 1) / CHUNK);
            int threads = Math.min(chunks, Runtime.getRuntime().availableProcessors());
            byte[][] digests = new byte[chunks][];
            try (ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads))) {
                List<Future<byte[]>> parts = new ArrayList<>();
                for (int k = 0; k < chunks; k++) {
                    long from = (long) k * CHUNK;
                    long to = Math.min(size, from + CHUNK);
                    parts.add(pool.submit(() -> chunkHash(ch, from, to)));
                }
                for (int k = 0; k < chunks; k++) {
                    digests[k] = parts.get(k).get();
                }
            } catch (ExecutionException e) {
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                throw new IllegalStateException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IpgException(file + ": hashing interrupted");
            }
            MessageDigest md = sha256();
            for (byte[] d : digests) {
                md.update(d);
            }
            md.update(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(size).array());
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new IpgException(file + ": cannot read: " + AtomicFiles.reason(e), e);
        }
    }

    private static byte[] chunkHash(FileChannel ch, long from, long to) throws IOException {
        MessageDigest md = sha256();
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        long pos = from;
        while (pos < to) {
            buf.clear().limit((int) Math.min(buf.capacity(), to - pos));
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new IOException("file shrank while it was hashed");
            }
            buf.flip();
            md.update(buf);
            pos += n;
        }
        return md.digest();
    }

    /** The hex sha256 of a file's bytes (datasets, tokenizer files). */
    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = sha256();
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new IpgException(file + ": cannot read: " + AtomicFiles.reason(e), e);
        }
    }

    // ------------------------------------------------------------------ cache

    /** Where the cache may live, in order of preference. */
    static Path[] cacheFiles(Path dir) {
        List<Path> out = new ArrayList<>();
        if (Files.isWritable(dir)) {
            out.add(dir.resolve(CACHE_FILE));
        }
        Path user = userCacheDir();
        if (user != null) {
            String id = HexFormat.of().formatHex(sha256().digest(canonical(dir).getBytes(StandardCharsets.UTF_8)));
            out.add(user.resolve("content-hash").resolve(id.substring(0, 32) + ".json"));
        }
        return out.toArray(Path[]::new);
    }

    /** {@code $XDG_CACHE_HOME/ipg}, else {@code ~/.cache/ipg}; null without either. */
    static Path userCacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
            return Path.of(xdg, "ipg");
        }
        String home = System.getProperty("user.home");
        return home == null || home.isBlank() ? null : Path.of(home, ".cache", "ipg");
    }

    private static String canonical(Path dir) {
        try {
            return dir.toRealPath().toString();
        } catch (IOException e) {
            return dir.toAbsolutePath().normalize().toString();
        }
    }

    private static ObjectNode newCache(Path dir) {
        ObjectNode c = Json.object();
        c.put("algorithm", ALGORITHM);
        c.put("model_dir", canonical(dir));
        c.putObject("files");
        return c;
    }

    private static ObjectNode readCache(Path file, Path dir) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            ObjectNode c = Json.readObject(file);
            if (!ALGORITHM.equals(c.path("algorithm").asText()) || !canonical(dir).equals(c.path("model_dir").asText())
                    || !(c.get("files") instanceof ObjectNode)) {
                return null;
            }
            return c;
        } catch (IpgException e) {
            return null; // a damaged cache is recomputed
        }
    }

    private static boolean writeCache(Path file, ObjectNode cache) {
        try {
            Files.createDirectories(file.getParent());
            Json.write(file, cache);
            return true;
        } catch (IOException | IpgException e) {
            return false;
        }
    }

    /** What identifies one version of a file: size, modification and change time, inode. */
    private static ObjectNode key(Path f) {
        ObjectNode k = Json.object();
        try {
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            k.put("size", Long.toString(a.size())); // strings: compared with what the cache file reads back
            k.put("mtime", a.lastModifiedTime().toString());
            try {
                Object ctime = Files.getAttribute(f, "unix:ctime");
                if (ctime instanceof FileTime t) {
                    k.put("ctime", t.toString());
                }
                Object ino = Files.getAttribute(f, "unix:ino", LinkOption.NOFOLLOW_LINKS);
                k.put("inode", String.valueOf(ino));
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                k.put("file_key", String.valueOf(a.fileKey()));
            }
        } catch (IOException e) {
            throw new IpgException(f + ": cannot read: " + AtomicFiles.reason(e), e);
        }
        return k;
    }

    private static ObjectNode withoutHash(ObjectNode e) {
        ObjectNode k = e.deepCopy();
        k.remove("sha256");
        return k;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
