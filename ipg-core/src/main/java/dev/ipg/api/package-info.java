/**
 * The programmatic face of ipg: load a checkpoint, generate with interventions, cache
 * activations, differentiate to a hook site, attribute with Integrated Policy Gradient, steer
 * and evaluate, in a few calls. Start at {@link dev.ipg.api.Ipg#load(java.nio.file.Path)}.
 *
 * <p>The facade is a thin layer over the {@code dev.ipg.core} packages (each result also gives
 * the underlying object, for what the facade does not cover) and depends on all of them; nothing
 * in {@code dev.ipg.core} depends on it. Every run needs the JVM flags in {@link dev.ipg.api.Ipg#JVM_FLAGS}.
 */
package dev.ipg.api;
