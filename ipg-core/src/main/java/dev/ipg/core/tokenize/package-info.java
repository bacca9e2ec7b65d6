/**
 * Tokenization with the Hugging Face tokenizers library ({@code tokenizer.json}, through DJL's
 * binding, kept offline) and chat templates from {@code tokenizer_config.json} rendered with Jinjava
 * brought to jinja2's semantics. Entry point: {@link dev.ipg.core.tokenize.Tokenizer#load}. Depends
 * only on {@code dev.ipg.core.IpgException}.
 */
package dev.ipg.core.tokenize;
