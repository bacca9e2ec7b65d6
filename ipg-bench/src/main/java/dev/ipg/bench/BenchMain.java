package dev.ipg.bench;

/** Entry point of {@code ipg-bench}. */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) {
        System.out.println("ipg-bench");
    }
}
