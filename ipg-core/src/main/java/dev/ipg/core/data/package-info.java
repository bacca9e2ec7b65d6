/**
 * Problem sets and prompts: JSONL datasets (GSM8K, MATH-500 and AIME shapes, or an explicit
 * field mapping) with exact line numbers for bad input, the problems they hold, the prompt format
 * that turns a problem into model input (plain text, a chat template, thinking on or off), and
 * the disjointness check between problem sets. Depends only on {@code io}, {@code tokenize} and
 * Jackson; every package that reads problems (attribution, baselines, evaluation, comparison,
 * the demo) sits above it.
 */
package dev.ipg.core.data;
