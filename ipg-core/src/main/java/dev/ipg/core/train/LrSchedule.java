package dev.ipg.core.train;

import dev.ipg.core.IpgException;

/**
 * Linear warmup then cosine decay. For optimizer step {@code s} (0-based) of {@code total}:
 * <pre>
 *   s &lt;  warmup:  lr = peak * (s + 1) / warmup
 *   s >= warmup:  p  = (s - warmup) / max(1, total - 1 - warmup)          // 0 .. 1
 *                 lr = min + (peak - min) * (1 + cos(pi * p)) / 2
 * </pre>
 * so the first step already moves (lr = peak / warmup), the first step after warmup uses the
 * peak and the last step uses {@code min}.
 *
 * @param peak   the learning rate reached at the end of warmup
 * @param min    the learning rate of the last step
 * @param warmup number of warmup steps (0: start at the peak)
 * @param total  number of optimizer steps
 */
public record LrSchedule(double peak, double min, int warmup, int total) {

    public LrSchedule {
        if (!(peak > 0) || !(min >= 0) || min > peak) {
            throw new IpgException("learning rates must satisfy 0 <= min <= peak and peak > 0, got peak " + peak + ", min " + min);
        }
        if (total < 1 || warmup < 0 || warmup > total) {
            throw new IpgException("schedule needs total >= 1 and 0 <= warmup <= total, got total " + total + ", warmup " + warmup);
        }
    }

    /** The learning rate of step {@code s} (0-based); steps past the end keep {@code min}. */
    public double at(int s) {
        if (s < warmup) {
            return peak * (s + 1) / warmup;
        }
        double p = Math.min(1.0, (double) (s - warmup) / Math.max(1, total - 1 - warmup));
        return min + (peak - min) * (1 + Math.cos(Math.PI * p)) / 2;
    }
}
