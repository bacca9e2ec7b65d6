/**
 * Checkpoint files: the safetensors reader (memory-mapped through FFM, sharded indexes,
 * F32/F16/BF16) and writer, JSON helpers for {@code config.json} and friends, and atomic file
 * writes (temp file, then rename). Depends on {@code tensor}.
 */
package dev.ipg.core.io;
