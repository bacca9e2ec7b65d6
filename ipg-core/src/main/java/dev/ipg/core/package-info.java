/**
 * The ipg library: a transformer engine for Hugging Face checkpoints with hook sites, reverse
 * mode, and Integrated Policy Gradient attribution. No printing and no command line here.
 */
package dev.ipg.core;
