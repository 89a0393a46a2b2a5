/**
 * run8: libc symbols bound the `"pointer"` way (lib/ns/libc.ts `bindTogether(…, "pointer")`, what stage 2 and
 * the early start use): calls give what a fast-call stub gives, a `nonblocking` one still resolves a promise,
 * and a failing call still reports its errno.
 */
import { strict as assert } from "node:assert";
import { mkfifo } from "../../lib/ns/fs.ts";
import { bindTogether, libc, SysError } from "../../lib/ns/libc.ts";

Deno.test("libc: symbols bound as pointers call through, nonblocking ones resolve, errors keep their errno", async () => {
  bindTogether(["syscall", "usleep", "mkfifo", "setresgid"], "pointer");
  const getpid = Deno.build.arch === "aarch64" ? 172n : 39n;
  assert.equal(libc().syscall(getpid, 0n, 0n, 0n, 0n, 0n), BigInt(Deno.pid));
  // -1 leaves each id as it is (a no-op that must succeed)
  assert.equal(libc().setresgid(0xffffffff, 0xffffffff, 0xffffffff), 0);
  const slept = libc().usleep(1000);
  assert.ok(slept instanceof Promise, "a nonblocking symbol resolves a promise");
  assert.equal(await slept, 0);
  const dir = Deno.makeTempDirSync();
  try {
    mkfifo(`${dir}/fifo`);
    assert.equal(Deno.lstatSync(`${dir}/fifo`).isFifo, true);
    assert.throws(() => mkfifo(`${dir}/fifo`), (e) => e instanceof SysError && e.errno === "EEXIST");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
