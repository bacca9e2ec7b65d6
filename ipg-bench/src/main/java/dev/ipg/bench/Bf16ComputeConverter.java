package dev.ipg.bench;

import dev.ipg.core.tensor.Bf16Compute;
import picocli.CommandLine.ITypeConverter;

/** Reads a {@code --bf16-compute} value by its spelling ({@code java}, {@code native}, {@code native-avx512}, {@code native-amx}). */
final class Bf16ComputeConverter implements ITypeConverter<Bf16Compute> {

    @Override
    public Bf16Compute convert(String value) {
        return Bf16Compute.parse(value);
    }
}
