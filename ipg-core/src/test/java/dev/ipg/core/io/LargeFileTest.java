package dev.ipg.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Matrix;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Offsets past 2^31 and 2^32: a sparse file of about 4.3 GB (a hole, so it costs no disk space or
 * time) whose only tensor data sits beyond 4 GiB. Catches any int in the offset arithmetic.
 */
class LargeFileTest {

    @TempDir
    Path dir;

    @Test
    void readsATensorStoredBeyondFourGigabytes() throws IOException {
        long begin = (1L << 32) + 12; // relative to the data buffer
        long end = begin + 3 * 4;
        String json = "{\"far\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[" + begin + "," + end + "]},"
                + "\"near\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]}}";
        byte[] header = json.getBytes(StandardCharsets.US_ASCII);
        long dataStart = 8 + header.length;
        Path f = dir.resolve("big.safetensors");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate((int) dataStart + 2).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(header.length).put(header).putShort((short) 0x4040); // near = bf16 3.0
            ch.write(head.flip(), 0);
            ByteBuffer far = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.25f).putFloat(-7f).putFloat(1e9f);
            ch.write(far.flip(), dataStart + begin); // leaves a hole of ~4 GiB
        }
        try (var st = SafetensorsFile.open(f)) {
            assertEquals(begin, st.info("far").begin());
            Matrix m = st.matrix("far");
            assertEquals(DType.F32, m.dtype());
            assertEquals(1.25f, m.get(0, 0));
            assertEquals(-7f, m.get(0, 1));
            assertEquals(1e9f, m.get(0, 2));
            assertEquals(3f, st.matrix("near").get(0, 0));
            assertTrue(m.data().isMapped(), "the matrix is a view of the mapping, not a heap copy");
            assertEquals(12, m.data().byteSize());
        }
    }
}
