/**
 * net3 (issue 12): `run --rm` on the default network, root and rootless. As root its netavark teardown is
 * handed off to a detached shell (lib/network/teardown_async.ts): the published host port is free the moment
 * `run --rm` returns (a second `run --rm` on it works at once), `run --rm` does not wait for it, it ends by
 * itself (no pending script, pinned netns or iptables rule naming the container), `rm -f` of another container
 * waits for it, and one whose shell died is run by the next `rm` instead of being waited for.
 * Rootless (slirp4netns, torn down in place): the same port promise. Traffic goes only to 127.0.0.1.
 * @module
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { freePort, networkSkipReason, sleep } from "../helpers/net.ts";
import type { TempPodHome } from "../helpers/pod.ts";
import { NETAVARK_LOCK, netRunDir, runDirRemovalLine } from "../../lib/network/netavark.ts";

/**
 * After a step's fake pending scripts (which kept the store's last teardown from removing the run dir): what
 * that teardown would have done.
 */
async function tidyRunDir(h: TempPodHome): Promise<void> {
  await new Deno.Command("sh", { args: ["-c", runDirRemovalLine(h.home)] }).output();
}

/** The handed-off teardown scripts of the store that still exist. */
function pending(h: TempPodHome): string[] {
  try {
    return [...Deno.readDirSync(`${netRunDir(h.home)}/pending`)].map((e) => e.name);
  } catch {
    return [];
  }
}

/** What the network of removed container `id` still leaves: a pinned netns, iptables rules naming it. */
async function leftovers(h: TempPodHome, id: string): Promise<string[]> {
  const out: string[] = [];
  try {
    Deno.statSync(`${netRunDir(h.home)}/netns/${id}`);
    out.push("pinned netns");
  } catch { /* gone */ }
  const rules = await new Deno.Command("iptables-save", {
    args: ["-t", "nat"],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  if (new TextDecoder().decode(rules.stdout).includes(id)) out.push("iptables rules naming it");
  return out;
}

await testRootAndRootless(
  "network: run --rm frees its published port at once; a handed-off teardown (root) ends by itself",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }, t) => {
      const why = networkSkipReason(mode);
      if (why) {
        console.log(`SKIPPED (${mode}): ${why}`);
        return;
      }
      const port = freePort();
      const ids: string[] = [];
      await t.step("two run --rm -p on one host port, one right after the other", async () => {
        for (let i = 0; i < 2; i++) {
          const cid = `${h.home}/cid${i}`;
          const r = await h.pod([
            "run",
            "--rm",
            "--cidfile",
            cid,
            "-p",
            `127.0.0.1:${port}:80`,
            img.ref,
            "true",
          ]);
          assert.equal(r.code, 0, r.stderr);
          ids.push(Deno.readTextFileSync(cid).trim());
          // the port holder ended before run returned: the port can be bound right away
          const l = Deno.listen({ hostname: "127.0.0.1", port });
          l.close();
        }
      });
      if (mode === "rootless") return;
      await t.step("the handed-off teardowns end by themselves, leaving nothing", async () => {
        for (let i = 0; i < 1500 && pending(h).length; i++) await sleep(20);
        assert.deepEqual(pending(h), []);
        for (const id of ids) assert.deepEqual(await leftovers(h, id), [], id);
      });
      await t.step("run --rm returns before its own handed-off teardown is over", async () => {
        const cid = `${h.home}/cid-own`;
        const running = h.pod(["run", "--rm", "--cidfile", cid, img.ref, "sleep", "1"]);
        let id = "";
        for (let i = 0; i < 1500 && !id; i++) {
          id = (() => {
            try {
              return Deno.readTextFileSync(cid).trim();
            } catch {
              return "";
            }
          })();
          if (!id) await sleep(20);
        }
        assert.ok(id, "the cidfile was written");
        // run10: the handed-off script runs under the netavark lock (teardown_async.ts): held by the test
        // once the container's network is up (its state has netavark's answer), it waits for the test
        const state = `${h.home}/containers/${id}/network.json`;
        const up = () => {
          try {
            return "status" in JSON.parse(Deno.readTextFileSync(state));
          } catch {
            return false;
          }
        };
        for (let i = 0; i < 1500 && !up(); i++) await sleep(5);
        assert.ok(up(), "the container's network was set up");
        const held = await Deno.open(NETAVARK_LOCK, { write: true, create: true });
        await held.lock(true);
        try {
          const r = await Promise.race([running, sleep(20000).then(() => undefined)]);
          assert.ok(r, "run --rm returned while its teardown was held");
          assert.equal(r.code, 0, r.stderr);
          assert.ok(pending(h).includes(`${id}.sh`), "its teardown was still pending then");
        } finally {
          held.close();
          await running;
        }
        for (let i = 0; i < 1500 && pending(h).length; i++) await sleep(20);
        assert.deepEqual(pending(h), []);
        assert.deepEqual(await leftovers(h, id), []);
      });
      await t.step("rm -f of another container waits for a pending teardown", async () => {
        const d = await h.pod(["run", "-d", img.ref, "sleep", "600"]);
        assert.equal(d.code, 0, d.stderr);
        // a teardown that stays pending until the test removes it
        const fake = `${netRunDir(h.home)}/pending/test-held.sh`;
        Deno.mkdirSync(`${netRunDir(h.home)}/pending`, { recursive: true });
        Deno.writeTextFileSync(fake, "#!/bin/sh\n");
        let done = false;
        const rm = h.pod(["rm", "-f", "-t", "0", d.stdout.trim()]).finally(() => done = true);
        await sleep(1500);
        const early = done;
        Deno.removeSync(fake);
        const r = await rm;
        assert.equal(r.code, 0, r.stderr);
        assert.equal(early, false, "rm -f returned while a teardown was pending");
        assert.deepEqual(await leftovers(h, d.stdout.trim()), []);
        await tidyRunDir(h);
        assert.throws(
          () => Deno.statSync(netRunDir(h.home)),
          Deno.errors.NotFound,
          "the store's run dir is gone",
        );
      });
      await t.step("a pending teardown whose shell died is run by the next rm, not waited for", async () => {
        const d = await h.pod(["run", "-d", img.ref, "sleep", "600"]);
        assert.equal(d.code, 0, d.stderr);
        Deno.mkdirSync(`${netRunDir(h.home)}/pending`, { recursive: true });
        const stale = `${netRunDir(h.home)}/pending/test-stale.sh`;
        Deno.writeTextFileSync(stale, '#!/bin/sh\nrm -f "$0"\n');
        const old = new Date(Date.now() - 120_000);
        Deno.utimeSync(stale, old, old);
        const t0 = performance.now();
        const rm = await h.pod(["rm", "-f", "-t", "0", d.stdout.trim()]);
        assert.equal(rm.code, 0, rm.stderr);
        assert.ok(performance.now() - t0 < 25_000, "rm -f did not wait out the stale teardown");
        assert.deepEqual(pending(h), []);
        await tidyRunDir(h);
        assert.throws(
          () => Deno.statSync(netRunDir(h.home)),
          Deno.errors.NotFound,
          "the store's run dir is gone",
        );
      });
    }),
);
