package dev.ipg.core.io;

import dev.ipg.core.tensor.DType;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The element types a safetensors header may name, with their width in bytes and, for the three
 * floating-point types ipg computes with, the engine {@link DType}. The constant names are the
 * strings that appear in the header's {@code "dtype"} field.
 */
enum StorageType {
    BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), F8_E8M0(1),
    I16(2), U16(2), F16(2, DType.F16), BF16(2, DType.BF16),
    I32(4), U32(4), F32(4, DType.F32),
    I64(8), U64(8), F64(8);

    private final int bytes;
    private final DType engine; // null: valid in the format, not readable as float by ipg

    StorageType(int bytes) {
        this(bytes, null);
    }

    StorageType(int bytes, DType engine) {
        this.bytes = bytes;
        this.engine = engine;
    }

    int bytes() {
        return bytes;
    }

    /** The engine type, or null when ipg cannot read this type as float. */
    DType engine() {
        return engine;
    }

    /** The type named {@code s} in a header, or null if the format has no such type. */
    static StorageType parse(String s) {
        for (StorageType t : values()) {
            if (t.name().equals(s)) {
                return t;
            }
        }
        return null;
    }

    /** All type names, for error messages: {@code "BOOL, U8, ..."}. */
    static String names() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }
}
