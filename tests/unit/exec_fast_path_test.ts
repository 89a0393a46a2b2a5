// exec's start-up shortcuts (execperf2): the running container read the short way, and the posix_spawn
// attributes written straight into glibc's struct instead of through five bound libc calls.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { readRunningContainer } from "../../lib/store/container_running.ts";
import { spawnAttributes } from "../../lib/ns/spawn.ts";
import { procStartTime } from "../../lib/proc.ts";

const ID = "ab".repeat(32);

/** A store with one container `web` (id {@link ID}) in `state`. */
function store(state: Record<string, unknown>): string {
  const root = Deno.makeTempDirSync({ prefix: "pod-unit-running-" });
  const dir = `${root}/containers/${ID}`;
  Deno.mkdirSync(`${root}/containers/names`, { recursive: true });
  Deno.mkdirSync(dir);
  Deno.writeTextFileSync(`${dir}/config.json`, JSON.stringify({ id: ID, name: "web" }));
  Deno.writeTextFileSync(`${dir}/state.json`, JSON.stringify(state));
  Deno.symlinkSync(ID, `${root}/containers/names/web`);
  return root;
}

const running = () => ({ status: "running", pid: Deno.pid, pidStart: procStartTime(Deno.pid) });

Deno.test("readRunningContainer: a running container by name or full id; config, state and dir", () => {
  const root = store(running());
  try {
    for (const key of ["web", ID]) {
      const rec = readRunningContainer(root, key);
      assert(rec, key);
      assertEquals(rec.config.id, ID);
      assertEquals(rec.state.pid, Deno.pid);
      assertEquals(rec.dir, `${root}/containers/${ID}`);
    }
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("readRunningContainer: anything it cannot decide alone is left to getContainer (undefined)", () => {
  const cases: [string, Record<string, unknown>, string, (root: string) => void][] = [
    ["exited", { status: "exited", pid: 0 }, "web", () => {}],
    [
      "init gone (state to refresh)",
      { ...running(), pidStart: procStartTime(Deno.pid)! + 1 },
      "web",
      () => {},
    ],
    ["an id prefix", running(), ID.slice(0, 12), () => {}],
    ["no such name", running(), "db", () => {}],
    ["a path, not a name", running(), "../containers/names/web", () => {}],
    ["incomplete (no name link)", running(), ID, (root) => Deno.removeSync(`${root}/containers/names/web`)],
  ];
  for (const [what, state, key, change] of cases) {
    const root = store(state);
    try {
      change(root);
      assertEquals(readRunningContainer(root, key), undefined, what);
    } finally {
      Deno.removeSync(root, { recursive: true });
    }
  }
});

Deno.test({
  name: "spawnAttributes: the bytes glibc's posix_spawnattr_* and sigfillset calls write",
  ignore: Deno.build.os !== "linux",
  fn() {
    const lib = Deno.dlopen("libc.so.6", {
      posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
      posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
      posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
      posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
      sigfillset: { parameters: ["buffer"], result: "i32" },
    });
    try {
      const c = lib.symbols;
      for (const flags of [0x04 | 0x08, 0x04 | 0x08 | 0x80]) {
        const attr = new Uint8Array(512), all = new Uint8Array(128), none = new Uint8Array(128);
        assertEquals(c.posix_spawnattr_init(attr), 0);
        assertEquals(c.posix_spawnattr_setflags(attr, flags), 0);
        assertEquals(c.sigfillset(all), 0);
        assertEquals(c.posix_spawnattr_setsigdefault(attr, all), 0);
        assertEquals(c.posix_spawnattr_setsigmask(attr, none), 0);
        // the signals that exist (1–64) as glibc sets them; its sigset_t beyond them is never read
        const mine = spawnAttributes(flags);
        assertEquals(mine.slice(0, 16), attr.slice(0, 16));
        assertEquals(mine.slice(16, 136).some((b) => b !== 0), false);
        assertEquals(mine.slice(136), attr.slice(136));
      }
    } finally {
      lib.close();
    }
  },
});

Deno.test("libc: the calls made through syscall(2) behave as glibc's (result, errno, types)", async () => {
  const { libc, cstr, errno, Errno, O } = await import("../../lib/ns/libc.ts");
  const dir = Deno.makeTempDirSync({ prefix: "pod-unit-syscall-" });
  try {
    const c = libc();
    const path = `${dir}/f`;
    const fd = c.open(cstr(path), O.WRONLY | 0o100 /* O_CREAT */ | O.CLOEXEC, 0o640);
    assert(typeof fd === "number" && fd >= 3, `fd ${fd}`);
    const n = c.write(fd, new TextEncoder().encode("hello"), 5n);
    assertEquals(Number(n), 5);
    assertEquals(c.close(fd), 0);
    assertEquals(Deno.readTextFileSync(path), "hello");
    assertEquals(Deno.statSync(path).mode! & 0o777, 0o640 & ~Deno.umask());
    assertEquals(c.access(cstr(path), 0), 0);
    // a failure: -1 and errno, as the wrappers return
    assertEquals(c.open(cstr(`${dir}/missing`), O.RDONLY, 0), -1);
    assertEquals(errno(), Errno.ENOENT);
    assertEquals(c.access(cstr(`${dir}/missing`), 0), -1);
    assertEquals(errno(), Errno.ENOENT);
    assertEquals(c.close(9999), -1);
    assertEquals(errno(), Errno.EBADF);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
