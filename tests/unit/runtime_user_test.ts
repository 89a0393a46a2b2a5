import assert from "node:assert/strict";
import { parseGroup, parsePasswd, resolveUser, resolveUserInRoot } from "../../lib/container/user.ts";
import { normalizeSignal, parseSignal } from "../../lib/oci/signals.ts";

const passwd = parsePasswd(
  "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1::/usr/sbin:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\nbad line\n",
);
const groups = parseGroup("root:x:0:\nwheel:x:10:root,app\nstaff:x:50:app\napp:x:1000:\n");

Deno.test("default user is root with its groups", () => {
  const u = resolveUser("", passwd, groups);
  assert.deepEqual(u, { uid: 0, gid: 0, additionalGids: [0, 10], home: "/root" });
});

Deno.test("user by name and by uid", () => {
  assert.deepEqual(resolveUser("app", passwd, groups), {
    uid: 1000,
    gid: 1000,
    additionalGids: [1000, 10, 50],
    home: "/home/app",
  });
  assert.equal(resolveUser("1000", passwd, groups).home, "/home/app");
  const unknown = resolveUser("4242", passwd, groups);
  assert.deepEqual([unknown.uid, unknown.gid, unknown.home], [4242, 0, "/"]);
});

Deno.test("explicit group by name or gid", () => {
  assert.deepEqual(resolveUser("app:wheel", passwd, groups).gid, 10);
  assert.deepEqual(resolveUser("app:77", passwd, groups), {
    uid: 1000,
    gid: 77,
    additionalGids: [77],
    home: "/home/app",
  });
  assert.throws(() => resolveUser("app:nogroup", passwd, groups), /unable to find group nogroup/);
  assert.throws(
    () => resolveUser("ghost", passwd, groups),
    /unable to find user ghost: no matching entries in passwd file/,
  );
});

Deno.test("passwd is read inside the root: a symlink to the host's file stays in the root", () => {
  const root = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${root}/etc`);
    Deno.mkdirSync(`${root}/data/etc`, { recursive: true });
    Deno.writeTextFileSync(`${root}/data/etc/passwd`, "inside:x:7:7::/in:/bin/sh\n");
    // absolute symlink: must resolve to <root>/data/etc/passwd, never the host's /data/...
    Deno.symlinkSync("/data/etc/passwd", `${root}/etc/passwd`);
    assert.equal(resolveUserInRoot(root, "inside").uid, 7);
    Deno.removeSync(`${root}/etc/passwd`);
    Deno.symlinkSync("../../../../../../etc/passwd", `${root}/etc/passwd`); // climbs out: clamps at root
    assert.throws(() => resolveUserInRoot(root, "root"), /unable to find user root/);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("signals", () => {
  assert.equal(parseSignal("TERM"), 15);
  assert.equal(parseSignal("sigkill"), 9);
  assert.equal(parseSignal("10"), 10);
  assert.equal(parseSignal("RTMIN+2"), 36);
  assert.equal(normalizeSignal("usr1"), "SIGUSR1");
  assert.throws(() => parseSignal("BOGUS"), /invalid signal/);
  assert.throws(() => parseSignal("99"), /invalid signal/);
});
