package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.attribution.Advantage;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.attribution.Quadrature;
import dev.ipg.core.compare.Comparison;
import dev.ipg.core.steer.Rank;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * An enum option: picocli converts the value with one of these (its {@code converter}) and lists
 * the spellings in the help (its {@code completionCandidates}, shown by
 * {@code ${COMPLETION-CANDIDATES}}). A constant is spelled as its name in lowercase with '-' for
 * '_' ({@code on-path}), in any letter case; a value that spells none is refused in one line
 * naming the option, the value and the spellings (exit code 2, like any usage error).
 */
abstract class Choice<E extends Enum<E>> implements ITypeConverter<E>, Iterable<String> {

    private final Class<E> type;

    Choice(Class<E> type) {
        this.type = type;
    }

    /** The command-line spelling of a constant, e.g. {@code reuse-weighted}. */
    static String spelling(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    @Override
    public E convert(String value) {
        for (E e : type.getEnumConstants()) {
            if (spelling(e).equalsIgnoreCase(value)) {
                return e;
            }
        }
        throw new TypeConversionException("unknown value '" + value + "' (use " + String.join(", ", this) + ")");
    }

    @Override
    public Iterator<String> iterator() {
        return Arrays.stream(type.getEnumConstants()).map(Choice::spelling).iterator();
    }

    /** A refusal of the core's parser as picocli's one-line conversion error. */
    static TypeConversionException refused(IpgException e) {
        return new TypeConversionException(e.getMessage());
    }

    static final class Advantages extends Choice<Advantage> {
        Advantages() {
            super(Advantage.class);
        }
    }

    static final class Baselines extends Choice<IpgOptions.BaselineKind> {
        Baselines() {
            super(IpgOptions.BaselineKind.class);
        }
    }

    static final class SamplingModes extends Choice<IpgOptions.SamplingMode> {
        SamplingModes() {
            super(IpgOptions.SamplingMode.class);
        }
    }

    static final class Positions extends Choice<IpgOptions.Positions> {
        Positions() {
            super(IpgOptions.Positions.class);
        }
    }

    static final class PolicyGradients extends Choice<IpgOptions.PolicyGradient> {
        PolicyGradients() {
            super(IpgOptions.PolicyGradient.class);
        }
    }

    static final class CvModes extends Choice<Comparison.CvMode> {
        CvModes() {
            super(Comparison.CvMode.class);
        }
    }

    /** Quadrature rules, spelled exactly as {@link Quadrature#parse} accepts them (lowercase only). */
    static final class Quadratures extends Choice<Quadrature> {
        Quadratures() {
            super(Quadrature.class);
        }

        @Override
        public Quadrature convert(String value) {
            try {
                return Quadrature.parse(value);
            } catch (IpgException e) {
                throw refused(e);
            }
        }
    }

    /** Ranks, spelled as {@link Rank#parse} accepts them. */
    static final class Ranks extends Choice<Rank> {
        Ranks() {
            super(Rank.class);
        }

        @Override
        public Rank convert(String value) {
            try {
                return Rank.parse(value);
            } catch (IpgException e) {
                throw refused(e);
            }
        }
    }
}
