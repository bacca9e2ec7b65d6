/** The {@code ipg} command line: picocli commands, progress output and error reporting. */
package dev.ipg.cli;
