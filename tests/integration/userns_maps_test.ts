/**
 * run6: a rootless process's id maps (lib/ns/userns.ts `writeMaps`), written through posix_spawn first and
 * through `Deno.Command` again when that fails: the maps land, and a refused map gives newuidmap's own message
 * in one PodError line. Runs as the rootless test user (a small script); skipped visibly without one.
 * @module
 */

import assert from "node:assert/strict";
import { lookupUser, rootlessAvailable, TEST_USER } from "../helpers/rootless.ts";

const USERNS = new URL("../../lib/ns/userns.ts", import.meta.url).href;

/** The script: maps a fresh `unshare --user` process with the maps in argv[0] (JSON), prints the outcome. */
const SCRIPT = `
import { waitUserNs, writeMaps } from ${JSON.stringify(USERNS)};
const maps = JSON.parse(Deno.args[0]);
const child = new Deno.Command("unshare", { args: ["--user", "sleep", "10"], stdin: "null" }).spawn();
try {
  await waitUserNs(child.pid, () => false);
  await writeMaps(child.pid, maps);
  console.log(JSON.stringify({ ok: true, uid: Deno.readTextFileSync(\`/proc/\${child.pid}/uid_map\`).trim() }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, pid: child.pid, message: e instanceof Error ? e.message : String(e) }));
} finally {
  child.kill("SIGKILL");
  await child.status;
}
`;

async function mapAs(user: { uid: number; gid: number }, maps: unknown): Promise<Record<string, unknown>> {
  const dir = await Deno.makeTempDir({ prefix: "pod-userns-maps-" });
  try {
    await Deno.chmod(dir, 0o755);
    await Deno.writeTextFile(`${dir}/maps.ts`, SCRIPT);
    const out = await new Deno.Command("setpriv", {
      args: [
        `--reuid=${user.uid}`,
        `--regid=${user.gid}`,
        "--init-groups",
        "--",
        Deno.execPath(),
        "run",
        "-A",
        "--no-lock",
        `--config=${new URL("../../deno.json", import.meta.url).pathname}`,
        `${dir}/maps.ts`,
        JSON.stringify(maps),
      ],
      cwd: dir,
      env: { DENO_NO_UPDATE_CHECK: "1", HOME: dir, DENO_DIR: `${dir}/deno` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    assert.ok(out.success && text, `script failed: ${new TextDecoder().decode(out.stderr)}`);
    return JSON.parse(text.split("\n").at(-1)!);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const available = Deno.uid() === 0 && await rootlessAvailable();
if (!available) {
  console.log(`SKIPPED userns_maps_test: needs root and the rootless user ${TEST_USER} (subuid)`);
}

Deno.test({
  name: "rootless id maps: written through posix_spawn; a refused map names newuidmap's reason (run6)",
  ignore: !available,
  async fn(t) {
    const user = (await lookupUser())!;
    await t.step("the maps land", async () => {
      const own = [{ containerId: 0, hostId: user.uid, size: 1 }];
      const r = await mapAs(user, { uidMap: own, gidMap: [{ containerId: 0, hostId: user.gid, size: 1 }] });
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.deepEqual(String(r.uid).split(/\s+/), ["0", String(user.uid), "1"]);
    });
    await t.step("a map outside the user's ranges: one line with newuidmap's message", async () => {
      const other = [{ containerId: 0, hostId: 1, size: 1 }]; // uid 1 is never the test user's
      const r = await mapAs(user, { uidMap: other, gidMap: [{ containerId: 0, hostId: user.gid, size: 1 }] });
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.match(String(r.message), new RegExp(`^newuidmap ${r.pid} 0 1 1: \\S`));
      assert.ok(!String(r.message).includes("\n"), String(r.message));
    });
  },
});
