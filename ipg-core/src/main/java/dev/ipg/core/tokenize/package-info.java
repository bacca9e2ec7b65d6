/**
 * Tokenization with the Hugging Face tokenizers library ({@code tokenizer.json}) and chat
 * templates from {@code tokenizer_config.json} rendered with Jinjava. Depends on {@code io}.
 */
package dev.ipg.core.tokenize;
