package dev.ipg.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.testutil.PyTorchReference;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The tensor names against those the independent PyTorch reference reads from a checkpoint. */
class HfNamesTest {

    @Test
    void everyNameIsOneThePyTorchReferenceReads() throws IOException {
        String reference = Files.readString(PyTorchReference.script());
        HfNames.Layer l = HfNames.layer(3);
        assertEquals("model.layers.3.", l.prefix());
        List<String> inLayer = List.of(l.inputNorm(), l.postAttentionNorm(), l.q("weight"), l.q("bias"), l.k("weight"), l.k("bias"),
                l.v("weight"), l.v("bias"), l.o("weight"), l.qNorm(), l.kNorm(), l.gate("weight"), l.up("weight"), l.down("weight"));
        for (String name : inLayer) {
            String suffix = name.substring(l.prefix().length());
            assertTrue(reference.contains("p + \"" + suffix + "\""), suffix + " is not a name the reference reads");
        }
        for (String name : List.of(HfNames.EMBED, HfNames.FINAL_NORM, HfNames.LM_HEAD)) {
            assertTrue(reference.contains("\"" + name + "\""), name + " is not a name the reference reads");
        }
    }
}
