/**
 * Concurrent pod processes on one store: 4 pulls of the same image, 4 pulls of different images that share a
 * layer, and `rmi` racing a pull of another image that shares layers (gc must not delete blobs a pull has
 * claimed). After each round every listed image's blobs exist and verify (`pod system check` exits 0) and each
 * image can be used (`pod inspect`).
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busyboxTar, customImage, type PushedImage, tarTree } from "../helpers/fixtures.ts";
import { startFaultProxy } from "../helpers/fault_proxy.ts";
import { type PodResult, REGISTRY_TEST_ENV, type TempPodHome, tempPodHome } from "../helpers/pod.ts";
import { claimBlobs } from "../../lib/store/gc.ts";
import { ensureStore } from "../../lib/store/images.ts";

const available = await registryAvailable();

async function check(h: TempPodHome): Promise<void> {
  const c = await h.pod(["system", "check"]);
  assert.equal(c.code, 0, `system check:\n${c.stdout}${c.stderr}`);
}

async function imageIds(h: TempPodHome): Promise<string[]> {
  const r = await h.pod(["images", "-q", "--no-trunc"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split("\n").map((l) => l.trim().replace(/^sha256:/, "")).filter(Boolean).sort();
}

Deno.test("concurrency: a pull's blob claim is written under the store lock (gc cannot miss it)", async () => {
  const h = await tempPodHome();
  try {
    const root = h.home;
    await ensureStore(root);
    const claim = await claimBlobs(root);
    // hold the store lock the way collectGarbage() does, on another open file description
    const f = await Deno.open(`${root}/lock`, { read: true, write: true, create: true });
    await f.lock(true);
    let added = false;
    const adding = claim.add(["sha256:" + "a".repeat(64)]).then(() => (added = true));
    // give the add every chance to finish if it did not wait for the lock
    for (let i = 0; i < 20 && !added; i++) await new Promise((r) => setTimeout(r, 10));
    const whileLocked = added;
    f.close(); // releases the lock
    await adding;
    assert.equal(whileLocked, false, "claim.add() finished while another holder had the store lock");
    const names = (await Array.fromAsync(Deno.readDir(`${root}/tmp`))).map((e) => e.name);
    const file = names.find((n) => n.startsWith(".claim-"));
    assert.ok(file, "claim file exists");
    assert.match(await Deno.readTextFile(`${root}/tmp/${file}`), /sha256:a{64}/);
    await claim.release();
  } finally {
    await h.cleanup();
  }
});

Deno.test({
  name: "concurrency: parallel pulls and rmi racing pull keep the store consistent",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const reg = await startRegistry();
    const proxy = await startFaultProxy(reg.url);
    const P = proxy.host;
    try {
      const shared = await busyboxTar();
      const images: PushedImage[] = [];
      for (let i = 0; i < 4; i++) {
        images.push(
          await customImage(reg, {
            repo: `test/share${i}`,
            layers: [shared, await tarTree({ [`own${i}.txt`]: `image ${i}\n`.repeat(1000 * (i + 1)) })],
          }),
        );
      }
      // transfers slowed down so the processes overlap
      const slow = () => proxy.add({ when: "blob", fault: { throttle: { chunk: 64 * 1024, delayMs: 5 } } });

      await t.step("4 processes pull the same image at once", async () => {
        const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
        try {
          proxy.reset();
          slow();
          const runs: PodResult[] = await Promise.all(
            Array.from({ length: 4 }, () => h.pod(["pull", "-q", `${P}/test/share0:latest`])),
          );
          for (const r of runs) {
            assert.equal(r.code, 0, r.stderr);
            assert.equal(r.stdout.trim(), images[0].configDigest.slice(7));
          }
          assert.deepEqual(await imageIds(h), [images[0].configDigest.slice(7)]);
          const idx = JSON.parse(await Deno.readTextFile(`${h.home}/index.json`));
          assert.equal(idx.manifests.length, 1, "one index entry for one name");
          await check(h);
        } finally {
          await h.cleanup();
        }
      });

      await t.step("4 processes pull 4 images sharing a layer", async () => {
        const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
        try {
          proxy.reset();
          slow();
          const runs = await Promise.all(
            images.map((im) => h.pod(["pull", "-q", `${P}/${im.repo}:latest`])),
          );
          runs.forEach((r, i) => {
            assert.equal(r.code, 0, r.stderr);
            assert.equal(r.stdout.trim(), images[i].configDigest.slice(7));
          });
          assert.deepEqual(await imageIds(h), images.map((im) => im.configDigest.slice(7)).sort());
          await check(h);
        } finally {
          await h.cleanup();
        }
      });

      await t.step("rmi racing pull of another image sharing layers (gc honours claims)", async () => {
        const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
        try {
          for (let round = 0; round < 6; round++) {
            const a = images[round % 2 ? 1 : 0];
            const b = images[round % 2 ? 2 : 3];
            proxy.reset();
            const pa = await h.pod(["pull", "-q", `${P}/${a.repo}:latest`]);
            assert.equal(pa.code, 0, pa.stderr);
            slow();
            // start the pull, then remove the image whose layer it shares while it runs
            const pull = await h.startPod(["pull", "-q", `${P}/${b.repo}:latest`]);
            await new Promise((r) => setTimeout(r, 100 + round * 80));
            const rmi = await h.pod(["rmi", `${P}/${a.repo}:latest`]);
            assert.equal(rmi.code, 0, rmi.stderr);
            const pb = await pull.done;
            assert.equal(pb.code, 0, pb.stderr);
            assert.deepEqual(await imageIds(h), [b.configDigest.slice(7)]);
            await check(h);
            const ins = await h.pod(["inspect", "--format", "{{.Id}}", `${P}/${b.repo}:latest`]);
            assert.equal(ins.code, 0, ins.stderr);
            const rb = await h.pod(["rmi", `${P}/${b.repo}:latest`]);
            assert.equal(rb.code, 0, rb.stderr);
          }
          // everything removed: gc left no blob behind
          const left = await Array.fromAsync(Deno.readDir(`${h.home}/blobs/sha256`));
          assert.deepEqual(left.map((e) => e.name), []);
        } finally {
          await h.cleanup();
        }
      });
    } finally {
      await proxy.stop();
      await reg.stop();
    }
  },
});

/** Pids of processes whose command line contains `marker` (to find escaped container processes). */
async function pidsWith(marker: string): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      const cmd = await Deno.readTextFile(`/proc/${e.name}/cmdline`);
      if (cmd.split("\0").includes(marker)) out.push(Number(e.name));
    } catch { /* gone */ }
  }
  return out;
}

Deno.test({
  name: "concurrency: parallel creates, name clashes, rm racing start, rmi racing create",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const reg = await startRegistry();
    const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
    const escaped: number[] = [];
    try {
      const img = (await customImage(reg, { repo: "test/ctr", layers: [await busyboxTar()] })).ref;
      const pulled = await h.pod(["pull", "-q", img]);
      assert.equal(pulled.code, 0, pulled.stderr);

      await t.step("10 parallel creates with distinct names", async () => {
        const runs = await Promise.all(
          Array.from({ length: 10 }, (_, i) => h.pod(["create", "--name", `par${i}`, img, "true"])),
        );
        const ids = runs.map((r) => {
          assert.equal(r.code, 0, r.stderr);
          return r.stdout.trim();
        });
        assert.equal(new Set(ids).size, 10);
        const ps = await h.pod(["ps", "-a", "--format", "{{.Names}}"]);
        assert.equal(ps.code, 0, ps.stderr);
        assert.deepEqual(
          ps.stdout.split("\n").filter((l) => l.startsWith("par")).sort(),
          [
            ...Array.from({ length: 10 }, (_, i) => `par${i}`),
          ].sort(),
        );
        const rm = await h.pod(["rm", ...Array.from({ length: 10 }, (_, i) => `par${i}`)]);
        assert.equal(rm.code, 0, rm.stderr);
      });

      await t.step("2 creates with the same name: exactly one wins", async () => {
        for (let round = 0; round < 4; round++) {
          const name = `same${round}`;
          const runs = await Promise.all(
            [0, 1].map(() => h.pod(["create", "--name", name, img, "true"])),
          );
          const wins = runs.filter((r) => r.code === 0);
          const lost = runs.filter((r) => r.code !== 0);
          assert.equal(wins.length, 1, runs.map((r) => r.stderr).join("\n"));
          assert.equal(lost[0].code, 125);
          assert.match(lost[0].stderr, /already in use/);
          assert.equal(lost[0].stderr.trim().split("\n").length, 1);
          const ins = await h.pod(["inspect", "--format", "{{.Id}}", name]);
          assert.equal(ins.stdout.trim(), wins[0].stdout.trim());
          const ps = await h.pod(["ps", "-a", "-q", "--no-trunc"]);
          assert.ok(ps.stdout.includes(wins[0].stdout.trim()));
          assert.equal((await h.pod(["rm", name])).code, 0);
        }
      });

      await t.step({
        name: "rm -f racing start: the container is gone and no process escapes",
        fn: async () => {
          for (let round = 0; round < 3; round++) {
            const marker = `${31_000 + round}`;
            const name = `race${round}`;
            const c = await h.pod(["create", "--name", name, img, "sleep", marker]);
            assert.equal(c.code, 0, c.stderr);
            const start = await h.startPod(["start", name]);
            await new Promise((r) => setTimeout(r, round * 150));
            const rm = await h.pod(["rm", "-f", name]);
            const st = await start.done;
            assert.equal(rm.code, 0, `rm -f: ${rm.stderr}`);
            assert.ok(
              st.code === 0 || /no such container|not known|removed|no container/i.test(st.stderr),
              st.stderr,
            );
            const ps = await h.pod(["ps", "-a", "--format", "{{.Names}}"]);
            assert.ok(!ps.stdout.split("\n").includes(name), `${name} still listed:\n${ps.stdout}`);
            // a started process must have been stopped by rm -f (bounded wait for it to be reaped)
            let left: number[] = [];
            for (let i = 0; i < 100; i++) {
              left = await pidsWith(marker);
              if (left.length === 0) break;
              await new Promise((r) => setTimeout(r, 100));
            }
            escaped.push(...left);
            assert.deepEqual(left, [], `container process of ${name} escaped rm -f`);
          }
        },
      });

      await t.step({
        name: "rmi racing create of that image",
        fn: async () => {
          for (let round = 0; round < 6; round++) {
            const name = `rc${round}`;
            const [cr, rmi] = await Promise.all([
              h.pod(["create", "--name", name, img, "true"]),
              new Promise((r) => setTimeout(r, round * 40)).then(() => h.pod(["rmi", img])),
            ]);
            if (cr.code === 0) {
              // the container's image must still be usable: it runs
              const run = await h.pod(["start", "-a", name]);
              assert.equal(
                run.code,
                0,
                `round ${round}: created, but start fails: ${run.stderr} (rmi: ${rmi.stderr})`,
              );
              assert.equal((await h.pod(["rm", "-f", name])).code, 0);
            } else {
              assert.equal(cr.code, 125, cr.stderr);
              assert.equal(rmi.code, 0, `neither create nor rmi succeeded: ${cr.stderr} / ${rmi.stderr}`);
            }
            const chk = await h.pod(["system", "check"]);
            assert.equal(chk.code, 0, chk.stdout);
            const again = await h.pod(["pull", "-q", img]);
            assert.equal(again.code, 0, again.stderr);
          }
        },
      });
    } finally {
      for (const pid of escaped) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone */ }
      }
      await reg.stop();
      await h.cleanup();
    }
  },
});
