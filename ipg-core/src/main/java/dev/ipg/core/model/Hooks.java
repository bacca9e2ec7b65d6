package dev.ipg.core.model;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What to do at each hook site during a forward pass: interventions (applied in the order added)
 * and readers (which see the activation after every intervention at that site).
 */
public final class Hooks {

    /** Receives a site's activations: {@code batch.rows()} rows of {@code width} components. */
    @FunctionalInterface
    public interface Reader {
        void read(Site site, float[] act, int width, Batch batch);
    }

    private final Map<Site, List<Intervention>> interventions = new HashMap<>();
    private final Map<Site, List<Reader>> readers = new HashMap<>();

    /** No hooks. */
    public static Hooks none() {
        return new Hooks();
    }

    /** Adds an intervention at {@code site}; throws {@link dev.ipg.core.IpgException} at a read-only site (hook_pattern). */
    public Hooks intervene(Site site, Intervention intervention) {
        site.checkWritable();
        interventions.computeIfAbsent(site, s -> new ArrayList<>()).add(intervention);
        return this;
    }

    public Hooks read(Site site, Reader reader) {
        readers.computeIfAbsent(site, s -> new ArrayList<>()).add(reader);
        return this;
    }

    /** A new set of hooks with the same interventions and readers (adding to it leaves this one unchanged). */
    Hooks copy() {
        Hooks h = new Hooks();
        interventions.forEach((s, l) -> h.interventions.put(s, new ArrayList<>(l)));
        readers.forEach((s, l) -> h.readers.put(s, new ArrayList<>(l)));
        return h;
    }

    /** Whether an intervention acts at {@code site}. */
    boolean intervenesAt(Site site) {
        return interventions.containsKey(site);
    }

    /** Whether an intervention or a reader acts at {@code site}. */
    public boolean actsAt(Site site) {
        return interventions.containsKey(site) || readers.containsKey(site);
    }

    /** All sites with an intervention or a reader. */
    public java.util.Set<Site> sites() {
        var s = new java.util.HashSet<>(interventions.keySet());
        s.addAll(readers.keySet());
        return s;
    }

    boolean isEmpty() {
        return interventions.isEmpty() && readers.isEmpty();
    }

    /** Applies the interventions at {@code site}, then lets the readers see the result. */
    public void apply(Site site, float[] act, int width, Batch batch) {
        apply(site, act, width, width, batch);
    }

    /**
     * As {@link #apply(Site, float[], int, Batch)} at a site of {@code units} components over rows
     * of {@code width} floats (whole heads: units = heads, width = heads * head_dim).
     */
    public void apply(Site site, float[] act, int width, int units, Batch batch) {
        if (isEmpty()) {
            return;
        }
        List<Intervention> iv = interventions.get(site);
        if (iv != null) {
            for (Intervention i : iv) {
                i.apply(site, act, width, units, batch);
            }
        }
        List<Reader> rd = readers.get(site);
        if (rd != null) {
            for (Reader r : rd) {
                r.read(site, act, width, batch);
            }
        }
    }
}
