/**
 * Pull benchmark: pulls (and, when `lib/unpack/mod.ts` is there, unpacks) a ≥50 MB multi-layer image from a
 * local registry with pod, compares with `podman pull` when installed, compares node:crypto sha256 throughput
 * with `sha256sum`, and reports peak RSS.
 *
 *     deno run -A scripts/bench_pull.ts [--mb 64] [--layers 4] [--runs 3]
 * @module
 */

import { startRegistry } from "../tests/helpers/registry.ts";
import { bigImage } from "../tests/helpers/fixtures.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const dec = new TextDecoder();

function arg(name: string, def: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : def;
}

/** Runs a command under /usr/bin/time; wall seconds and peak RSS (KiB). */
async function timed(
  cmd: string[],
  env: Record<string, string> = {},
): Promise<{ s: number; rssKiB: number }> {
  const haveTime = await Deno.stat("/usr/bin/time").then(() => true, () => false);
  const argv = haveTime ? ["/usr/bin/time", "-f", "__RSS__ %M", ...cmd] : cmd;
  const t0 = performance.now();
  const o = await new Deno.Command(argv[0], { args: argv.slice(1), env, stdout: "piped", stderr: "piped" })
    .output();
  const s = (performance.now() - t0) / 1000;
  const err = dec.decode(o.stderr);
  if (!o.success) throw new Error(`${cmd.join(" ")} failed: ${err.slice(-2000)}`);
  const m = /__RSS__ (\d+)/.exec(err);
  return { s, rssKiB: m ? Number(m[1]) : NaN };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const mib = (b: number) => (b / 1048576).toFixed(1);

async function main() {
  const mb = arg("mb", 96);
  const layers = arg("layers", 4);
  const runs = arg("runs", 3);
  const reg = await startRegistry({ logLevel: "error" });
  const work = await Deno.makeTempDir({ prefix: "pod-bench-pull-" });
  try {
    const img = await bigImage(reg, mb, { layers });
    const blobBytes = img.layers.reduce((n, l) => n + l.size, 0);
    console.log(`image ${img.ref}: ${img.layers.length} layers, ${mib(blobBytes)} MiB compressed`);

    // pod pull (fresh store each run)
    const podRuns: { s: number; rssKiB: number }[] = [];
    let lastRoot = "";
    for (let i = 0; i < runs; i++) {
      lastRoot = `${work}/pod-${i}`;
      podRuns.push(
        await timed([Deno.execPath(), "run", "-A", CLI, "pull", "-q", img.ref], {
          POD_HOME: lastRoot,
          REGISTRY_AUTH_FILE: `${work}/auth.json`,
        }),
      );
    }
    const podS = median(podRuns.map((r) => r.s));
    const podRss = Math.max(...podRuns.map((r) => r.rssKiB));
    console.log(
      `pod pull:      ${podS.toFixed(2)} s median of ${runs}  (${
        (blobBytes / 1048576 / podS).toFixed(0)
      } MiB/s), ` +
        `peak RSS ${(podRss / 1024).toFixed(0)} MiB`,
    );
    const rePull = await timed([Deno.execPath(), "run", "-A", CLI, "pull", "-q", img.ref], {
      POD_HOME: lastRoot,
      REGISTRY_AUTH_FILE: `${work}/auth.json`,
    });
    console.log(`pod re-pull:   ${rePull.s.toFixed(2)} s (all blobs present)`);

    // unpack, when the unpacker exists
    const unpackPath = new URL("../lib/unpack/mod.ts", import.meta.url);
    if (await Deno.stat(unpackPath).then(() => true, () => false)) {
      try {
        const mod = await import(unpackPath.href);
        const layersIn = img.layers.map((l) => ({
          path: `${lastRoot}/blobs/sha256/${l.digest.slice(7)}`,
          mediaType: l.mediaType,
          digest: l.digest,
          size: l.size,
          diffId: l.diffId,
        }));
        const target = `${work}/rootfs`;
        await Deno.mkdir(target);
        const t0 = performance.now();
        await mod.unpackLayers(target, layersIn);
        const s = (performance.now() - t0) / 1000;
        console.log(
          `pod unpack:    ${s.toFixed(2)} s (in process)  → pull+unpack ${(podS + s).toFixed(2)} s`,
        );
      } catch (e) {
        console.log(`pod unpack:    skipped (${(e as Error).message.split("\n")[0]})`);
      }
    } else console.log("pod unpack:    skipped (lib/unpack/mod.ts not there yet)");

    // podman, when installed
    const podman = await new Deno.Command("sh", { args: ["-c", "command -v podman"], stdout: "piped" })
      .output();
    if (podman.success) {
      const pmRuns: { s: number; rssKiB: number }[] = [];
      for (let i = 0; i < runs; i++) {
        pmRuns.push(
          await timed([
            "podman",
            "--root",
            `${work}/podman-${i}`,
            "--runroot",
            `${work}/podman-run-${i}`,
            "--storage-driver",
            "vfs",
            "pull",
            "-q",
            "--tls-verify=false",
            img.ref,
          ]),
        );
      }
      const pmS = median(pmRuns.map((r) => r.s));
      console.log(
        `podman pull:   ${pmS.toFixed(2)} s median (incl. unpack to vfs)  → pod/podman time ratio ${
          (podS / pmS).toFixed(2)
        }, peak RSS ${(Math.max(...pmRuns.map((r) => r.rssKiB)) / 1024).toFixed(0)} MiB`,
      );
    } else console.log("podman pull:   skipped (podman not installed)");

    // sha256: node:crypto (as pull hashes) vs sha256sum, over a 256 MiB file
    const file = `${work}/hashme`;
    const chunk = new Uint8Array(1 << 20);
    crypto.getRandomValues(chunk.subarray(0, 65536));
    const f = await Deno.open(file, { write: true, create: true });
    for (let i = 0; i < 256; i++) {
      chunk[0] = i;
      await f.write(chunk);
    }
    f.close();
    const { createHash } = await import("node:crypto");
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const h = createHash("sha256");
      const rf = await Deno.open(file);
      for await (const c of rf.readable) h.update(c);
      h.digest("hex");
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    let bestSum = Infinity;
    for (let r = 0; r < 3; r++) bestSum = Math.min(bestSum, (await timed(["sha256sum", file])).s);
    const ours = 256 / best;
    const theirs = 256 / bestSum;
    console.log(
      `sha256:        node:crypto ${ours.toFixed(0)} MiB/s, sha256sum ${theirs.toFixed(0)} MiB/s → ratio ${
        (ours / theirs).toFixed(2)
      }`,
    );
  } finally {
    await reg.stop();
    await Deno.remove(work, { recursive: true });
  }
}

if (import.meta.main) await main();
