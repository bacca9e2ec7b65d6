package dev.ipg.core;

/**
 * A problem with the user's input (a file, a flag, a dataset), as opposed to a bug in ipg. Its
 * message is one line that names the file or value and says what is wrong; the command line
 * prints it as {@code ipg: <message>} without a stack trace.
 */
public class IpgException extends RuntimeException {

    public IpgException(String message) {
        super(message);
    }

    public IpgException(String message, Throwable cause) {
        super(message, cause);
    }
}
