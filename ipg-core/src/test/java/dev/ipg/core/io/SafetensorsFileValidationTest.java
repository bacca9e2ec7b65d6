package dev.ipg.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every malformed file is refused at open with one line naming the file and the problem. */
class SafetensorsFileValidationTest {

    @TempDir
    Path dir;

    /** u64 little-endian {@code headerLength}, then {@code header} bytes, then {@code dataBytes} bytes 0..n-1. */
    static byte[] bytes(long headerLength, byte[] header, int dataBytes) {
        var out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).array());
        out.writeBytes(header);
        for (int i = 0; i < dataBytes; i++) {
            out.write(i);
        }
        return out.toByteArray();
    }

    /** A file whose header length is exactly the UTF-8 length of {@code json}. */
    private Path file(String name, String json, int dataBytes) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return Files.write(dir.resolve(name), bytes(h.length, h, dataBytes));
    }

    private IpgException refused(Path file, String phrase) {
        IpgException e = assertThrows(IpgException.class, () -> SafetensorsFile.open(file).close());
        String msg = e.getMessage();
        assertTrue(msg.contains(file.getFileName().toString()), () -> "message does not name the file: " + msg);
        assertTrue(msg.contains(phrase), () -> "message lacks \"" + phrase + "\": " + msg);
        assertFalse(msg.contains("\n"), () -> "message is not one line: " + msg);
        return e;
    }

    @Test
    void refusesAFileShorterThanTheLengthPrefix() throws IOException {
        Path f = Files.write(dir.resolve("short.safetensors"), new byte[] {1, 0, 0});
        refused(f, "too short to be a safetensors file: 3 bytes");
        Path empty = Files.write(dir.resolve("empty.safetensors"), new byte[0]);
        refused(empty, "0 bytes");
    }

    @Test
    void refusesAHeaderLengthOverTheCapBeforeReadingIt() throws IOException {
        // 200 MiB claimed by a 16-byte file: the cap is checked before the end-of-file check.
        Path f = Files.write(dir.resolve("huge.safetensors"), bytes(200L << 20, "{}      ".getBytes(StandardCharsets.US_ASCII), 0));
        refused(f, "header length of 209715200 bytes, more than the 100 MiB limit");
        // 0xFFFF...FF is u64 18446744073709551615, not -1
        Path g = Files.write(dir.resolve("ff.safetensors"), bytes(-1L, new byte[8], 0));
        refused(g, "header length of 18446744073709551615 bytes");
    }

    @Test
    void refusesAHeaderLengthBeyondTheEndOfTheFile() throws IOException {
        byte[] h = "{}".getBytes(StandardCharsets.US_ASCII);
        Path f = Files.write(dir.resolve("cut.safetensors"), bytes(100, h, 0));
        refused(f, "is truncated: header length is 100 bytes, file has 2 bytes after the 8-byte length");
    }

    @Test
    void refusesAHeaderThatIsNotJson() throws IOException {
        refused(file("garbage.safetensors", "{\"a\": {\"dtype\": ", 0), "the header of garbage.safetensors is not valid JSON");
        refused(file("trailing.safetensors", "{} {}", 0), "is not valid JSON");
        refused(file("blank.safetensors", "        ", 0), "is not valid JSON: it is empty");
        refused(file("zero.safetensors", "", 0), "is not valid JSON: it is empty");
        byte[] badUtf8 = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        Path f = Files.write(dir.resolve("latin.safetensors"), bytes(badUtf8.length, badUtf8, 0));
        refused(f, "the header of latin.safetensors is not valid UTF-8");
    }

    @Test
    void refusesDuplicateTensorNames() throws IOException {
        String e = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        refused(file("dup.safetensors", "{\"a\":" + e + ",\"a\":" + e + "}", 4), "Duplicate field 'a'");
    }

    @Test
    void refusesAHeaderThatIsNotAnObject() throws IOException {
        refused(file("array.safetensors", "[1, 2]", 0), "is not a JSON object (it is an array)");
        refused(file("entry.safetensors", "{\"w\": 5}", 0), "tensor w in entry.safetensors has a header entry that is a number");
    }

    @Test
    void refusesAnUnknownDtype() throws IOException {
        refused(file("dt.safetensors", "{\"w\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "tensor w in dt.safetensors has unknown dtype \"F33\"");
        refused(file("dt2.safetensors", "{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "a dtype that is not a string");
        refused(file("dt3.safetensors", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "has no dtype");
    }

    @Test
    void refusesAByteCountThatDisagreesWithDtypeAndShape() throws IOException {
        // F32 [2, 3] needs 24 bytes; the offsets give 20.
        refused(file("count.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24),
                "has dtype F32 and shape [2, 3], which need 24 bytes, but data_offsets [0, 20] hold 20");
        // BF16 [3] needs 6, not 12 (as if F32).
        refused(file("count2.safetensors", "{\"w\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,12]}}", 12),
                "which need 6 bytes");
    }

    @Test
    void refusesGarbageShapes() throws IOException {
        refused(file("neg.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4),
                "has an invalid shape [-1]: dimensions must be non-negative integers");
        refused(file("frac.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,4]}}", 4),
                "has an invalid shape [2.5]");
        refused(file("str.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8),
                "has an invalid shape");
        refused(file("noshape.safetensors", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "has no shape");
        refused(file("objshape.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":{},\"data_offsets\":[0,4]}}", 4),
                "a shape that is not an array");
        // 2^32 * 2^32 elements: the element count overflows a long.
        refused(file("big.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4),
                "too large to address");
    }

    @Test
    void refusesGarbageOffsets() throws IOException {
        refused(file("negoff.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4),
                "has invalid data_offsets [-4,0]: need two non-negative integers [begin, end]");
        refused(file("three.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8),
                "has invalid data_offsets [0,4,8]");
        refused(file("nooff.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "invalid data_offsets (missing)");
        refused(file("stroff.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", 4),
                "invalid data_offsets");
        refused(file("hugeoff.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}", 4),
                "invalid data_offsets");
    }

    @Test
    void refusesBeginAfterEnd() throws IOException {
        refused(file("rev.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8),
                "tensor w in rev.safetensors has data_offsets [8, 4] with begin after end");
    }

    @Test
    void refusesOffsetsPastTheEndOfTheData() throws IOException {
        // F32 [210] = 840 bytes, the file has 512 bytes of data.
        refused(file("model.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[210],\"data_offsets\":[0,840]}}", 512),
                "model.safetensors is truncated: header says 840 bytes of tensor data, file has 512");
        // Only the second tensor sticks out.
        refused(file("second.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 8),
                "header says 12 bytes of tensor data, file has 8 (tensor b ends at 12)");
    }

    @Test
    void refusesOverlappingTensors() throws IOException {
        refused(file("overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 24),
                "tensors a and b in overlap.safetensors overlap: bytes [0, 16) and [8, 24)");
        // Listed in reverse order, and one tensor entirely inside another.
        refused(file("inside.safetensors", "{\"small\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[20,24]},"
                + "\"big\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}}", 32),
                "tensors big and small in inside.safetensors overlap");
        // The same bytes twice.
        refused(file("alias.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "overlap");
    }

    @Test
    void refusesMetadataThatIsNotStrings() throws IOException {
        refused(file("meta.safetensors", "{\"__metadata__\":{\"format\":\"pt\",\"step\":3}}", 0),
                "__metadata__ in meta.safetensors has a value for key \"step\" that is a number, not a string");
        refused(file("meta2.safetensors", "{\"__metadata__\":[\"pt\"]}", 0), "__metadata__ in meta2.safetensors is an array");
    }

    @Test
    void acceptsGapsEmptyTensorsAndTrailingBytes() throws IOException {
        // a at [8, 16) leaves [0, 8) unused; z is empty at offset 4 (inside the gap); 8 trailing bytes.
        Path f = file("gaps.safetensors", "{\"__metadata__\":null,"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                + "\"z\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
                + "\"e\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[8,8]}}", 24);
        try (var st = SafetensorsFile.open(f)) {
            assertEquals(java.util.List.of("a", "z", "e"), java.util.List.copyOf(st.names()));
            assertTrue(st.metadata().isEmpty());
            // data bytes are 0,1,2,...: a[0] is bytes 8..11 = 0x0b0a0908 as little-endian F32
            assertEquals(Float.intBitsToFloat(0x0b0a0908), st.matrix("a").get(0, 0));
            assertEquals(Float.intBitsToFloat(0x0f0e0d0c), st.matrix("a").get(0, 1));
            assertEquals(0, st.matrix("z").rows());
            assertEquals(3, st.matrix("z").cols());
            assertEquals(0, st.segment("e").byteSize());
        }
    }

    @Test
    void acceptsOtherDtypesButRefusesToReadThemAsFloat() throws IOException {
        Path f = file("f.safetensors", "{\"x\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                + "\"m\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[16,19]},"
                + "\"q\":{\"dtype\":\"F8_E4M3\",\"shape\":[2,2],\"data_offsets\":[19,23]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[23,31]}}", 31);
        try (var st = SafetensorsFile.open(f)) {
            assertEquals("I64", st.info("x").dtype());
            assertEquals(16, st.segment("x").byteSize());
            for (String name : java.util.List.of("x", "m", "q", "d")) {
                IpgException e = assertThrows(IpgException.class, () -> st.matrix(name));
                assertEquals("tensor " + name + " in f.safetensors has dtype " + st.info(name).dtype()
                        + "; ipg reads F32, F16 and BF16", e.getMessage());
            }
        }
    }

    @Test
    void namesTheFileWhenItDoesNotExist() {
        Path missing = dir.resolve("nope.safetensors");
        IpgException e = assertThrows(IpgException.class, () -> SafetensorsFile.open(missing));
        assertEquals(missing + " does not exist", e.getMessage());
    }

    @Test
    void unknownTensorNameIsAnIpgException() throws IOException {
        Path f = file("one.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        try (var st = SafetensorsFile.open(f)) {
            IpgException e = assertThrows(IpgException.class, () -> st.matrix("v"));
            assertEquals("no tensor v in one.safetensors", e.getMessage());
        }
    }
}
