import { strict as assert } from "node:assert";
import { PodError } from "../../lib/errors.ts";
import { mkfifo } from "../../lib/ns/fs.ts";
import { Errno, SysError } from "../../lib/ns/libc.ts";

Deno.test("libc: a SysError names the call, its argument, the errno and strerror's text", () => {
  const e = new SysError("mount", Errno.EPERM, "/proc");
  assert.ok(e instanceof PodError);
  assert.equal(e.code, "SYSCALL");
  assert.equal(e.exitCode, 125);
  assert.equal(e.errno, "EPERM");
  assert.equal(e.errnum, 1);
  assert.equal(e.message, 'mount "/proc": EPERM (Operation not permitted)');
  assert.equal(new SysError("setsid", 9999).errno, "EUNKNOWN");
  assert.match(new SysError("setsid", 9999).message, /^setsid: errno 9999 \(/);
});

Deno.test("libc: a failed call throws a SysError with the errno's name; a NUL byte is refused", () => {
  const dir = Deno.makeTempDirSync();
  try {
    assert.throws(() => mkfifo(`${dir}/missing/fifo`), (e) => e instanceof SysError && e.errno === "ENOENT");
    mkfifo(`${dir}/fifo`);
    assert.throws(() => mkfifo(`${dir}/fifo`), (e) => e instanceof SysError && e.errno === "EEXIST");
    assert.throws(() => mkfifo(`${dir}/a\0b`), (e) => e instanceof SysError && e.errno === "EINVAL");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
