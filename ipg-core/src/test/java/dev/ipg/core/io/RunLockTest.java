package dev.ipg.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.testutil.PyTorchReference;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One writer per run directory: a second run, in this process or another, is refused until the first ends. */
class RunLockTest {

    @TempDir
    Path dir;

    @Test
    void aSecondLockInTheSameProcessIsRefusedUntilTheFirstIsReleased() {
        try (RunLock first = RunLock.acquire(dir)) {
            var e = assertThrows(IpgException.class, () -> RunLock.acquire(dir));
            assertEquals(dir + ": another ipg process is writing into this run directory; wait for it to finish or use another "
                    + "output directory", e.getMessage());
        }
        RunLock.acquire(dir).close(); // free again
    }

    @Test
    void aLockHeldByAnotherProcessIsRefusedAndFreedWhenItExits() throws Exception {
        // python's fcntl.lockf takes the same POSIX record lock as FileChannel.tryLock on Linux
        String script = "import fcntl, sys\n"
                + "f = open(sys.argv[1], 'a')\n"
                + "fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
                + "print('locked', flush=True)\n"
                + "sys.stdin.readline()\n";
        Process p = new ProcessBuilder(PyTorchReference.python().toString(), "-c", script, dir.resolve(RunLock.FILE).toString())
                .redirectErrorStream(true).start();
        try (var out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("locked", out.readLine());
            var e = assertThrows(IpgException.class, () -> RunLock.acquire(dir));
            assertTrue(e.getMessage().contains("another ipg process is writing into this run directory"), e.getMessage());
            p.getOutputStream().write('\n');
            p.getOutputStream().flush();
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        } finally {
            p.destroy();
        }
        RunLock.acquire(dir).close();
    }
}
