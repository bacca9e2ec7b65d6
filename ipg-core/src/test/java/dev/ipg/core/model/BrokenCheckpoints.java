package dev.ipg.core.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.testutil.PyTorchReference;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** Copies of the bundled demo model with one thing changed: a weight, a tensor more, a config field. */
public final class BrokenCheckpoints {

    private BrokenCheckpoints() {
    }

    /** The bundled demo model directory; an error if it is missing. */
    public static Path demo() {
        Path d = PyTorchReference.repositoryRoot().resolve("models").resolve("ipg-demo");
        if (!Files.isRegularFile(d.resolve("config.json"))) {
            throw new AssertionError("the bundled demo model is missing: " + d);
        }
        return d;
    }

    /** A copy of the demo model in {@code out} whose tensors pass through {@code edit(name, values)} (F32). */
    public static Path withWeights(Path out, BiConsumer<String, float[]> edit) {
        return rewrite(out, (w, f) -> {
            for (String t : f.names()) {
                var m = f.matrix(t);
                float[] v = new float[(int) m.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = m.getFlat(i);
                }
                edit.accept(t, v);
                w.add(t, v, f.info(t).shape(), DType.F32);
            }
        });
    }

    /** A copy with {@code values[index]} of tensor {@code name} set to {@code value} (every element when index < 0). */
    public static Path withValue(Path out, String name, int index, float value) {
        boolean[] found = {false};
        Path p = withWeights(out, (t, v) -> {
            if (t.equals(name)) {
                found[0] = true;
                if (index < 0) {
                    java.util.Arrays.fill(v, value);
                } else {
                    v[index] = value;
                }
            }
        });
        if (!found[0]) {
            throw new AssertionError("the demo model has no tensor " + name);
        }
        return p;
    }

    /** A copy whose checkpoint holds one tensor more. */
    public static Path withExtraTensor(Path out, String name, long... shape) {
        return rewrite(out, (w, f) -> {
            for (String t : f.names()) {
                var m = f.matrix(t);
                float[] v = new float[(int) m.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = m.getFlat(i);
                }
                w.add(t, v, f.info(t).shape(), DType.F32);
            }
            long n = 1;
            for (long s : shape) {
                n *= s;
            }
            w.add(name, new float[(int) n], shape, DType.F32);
        });
    }

    /** A copy whose config.json passes through {@code edit}. */
    public static Path withConfig(Path out, Consumer<ObjectNode> edit) {
        copy(out);
        ObjectNode c = Json.readObject(out.resolve("config.json"));
        edit.accept(c);
        try {
            Files.writeString(out.resolve("config.json"), c.toPrettyString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static Path rewrite(Path out, BiConsumer<SafetensorsWriter, SafetensorsFile> body) {
        copy(out);
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(demo().resolve("model.safetensors"))) {
            body.accept(w, f);
        }
        w.write(out.resolve("model.safetensors"));
        return out;
    }

    /** Copies every file of the demo model except the large training split. */
    public static Path copy(Path out) {
        try {
            Files.createDirectories(out);
            try (Stream<Path> s = Files.list(demo())) {
                for (Path f : s.toList()) {
                    String n = f.getFileName().toString();
                    if (!n.equals("train.jsonl") && !Files.exists(out.resolve(n))) {
                        Files.copy(f, out.resolve(n));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
