package dev.ipg.cli;

/** Entry point of the {@code ipg} command. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.out.println("ipg");
    }
}
