package dev.ipg.core.attribution.baselines;

import dev.ipg.core.IpgException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The component selection methods of the comparison, IPG included. */
public enum Method {
    /** Integrated Policy Gradient ({@code ipg attribute}). */
    IPG,
    /** Uniformly random components (seeded). */
    RANDOM,
    /** Mean |h_i| over the model's own completions of the support prompts. */
    ACTIVATION,
    /** Mean activation on reasoning-word tokens minus mean on other tokens (Rai and Yao 2024). */
    REASONING_NEURON,
    /** Mean activation on correct chain-of-thought minus mean on random letters (Hojer et al. 2025). */
    CONTROL_VECTOR,
    /** The IPG estimator with one step at alpha = 1 (no path integral). */
    PG,
    /** Integrated gradients of the teacher-forced gold-solution log-probability. */
    IG,
    /** IPG over the latents of an SAE ({@code ipg attribute --sae}). */
    IPG_SAE,
    /** ReasonScore over the latents of an SAE (Galichin et al. 2025). */
    SAE_R;

    /** The command-line spelling, e.g. reasoning-neuron. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Parses the command-line spelling. */
    public static Method parse(String s) {
        for (Method m : values()) {
            if (m.cliName().equals(s == null ? "" : s.strip().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        List<String> names = new ArrayList<>();
        for (Method m : values()) {
            names.add(m.cliName());
        }
        throw new IpgException("unknown method '" + s + "' (use " + String.join(", ", names) + ")");
    }

    @Override
    public String toString() {
        return cliName();
    }
}
