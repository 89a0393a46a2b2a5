/**
 * Pull benchmark: pull + unpack of a multi-layer image (two sizes, default 50 and 150 MiB of file data) from a
 * local registry with pod, side by side with `podman pull` (temp `--root`/`--runroot`, the host's storage is not
 * touched), and `tar -xzf` of the same layer blobs; node:crypto sha256 throughput vs `sha256sum`; peak RSS of
 * every step (`/usr/bin/time`). Prints numbers and ratios against the targets; never asserts.
 *
 *     deno run -A scripts/bench_pull.ts [--sizes 50,150] [--layers 4] [--runs 3]
 *
 * As root, `pod pull` builds the image tree while the layers download (as `podman pull` unpacks into its
 * storage), so pull+unpack is the whole `pod pull` process against the whole `podman pull` process. Rootless,
 * the tree is built at the first start, so pull+unpack is `pod pull` plus the unpack alone. The unpack alone
 * (`unpackLayers(target, layers)` of `lib/unpack/mod.ts`, what the tree build does) runs in a child process,
 * timed in-process against `tar -xzf` of the same blobs, its peak RSS measured apart from the pull's.
 *
 * Nothing the runs write is deleted before the benchmark ends: on ext4 without a journal (this project's test
 * VMs) creating inodes right after many were deleted is several times slower (the allocator skips recently
 * deleted inodes one by one), so deleting one run's tree would slow down the next run, whichever tool it is.
 * For the same reason pod's and podman's pulls alternate, and every timed run starts after a `sync` (the
 * previous run's writeback would otherwise compete with it for the two cores and the disk).
 * @module
 */

import { podmanStoreArgs, removePodmanStore } from "./podman_args.ts";
import { type Registry, startRegistry } from "../tests/helpers/registry.ts";
import { bigImage } from "../tests/helpers/fixtures.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const SELF = new URL(import.meta.url).pathname;
const dec = new TextDecoder();

function argStr(name: string, def: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : def;
}

interface Timed {
  s: number;
  rssKiB: number;
  stdout: string;
}

/** Runs a command under /usr/bin/time; wall seconds and peak RSS (KiB, of the process and its waited children). */
async function timed(cmd: string[], env?: Record<string, string>): Promise<Timed> {
  const haveTime = await Deno.stat("/usr/bin/time").then(() => true, () => false);
  const argv = haveTime ? ["/usr/bin/time", "-f", "__RSS__ %M", ...cmd] : cmd;
  const t0 = performance.now();
  const o = await new Deno.Command(argv[0], { args: argv.slice(1), env, stdout: "piped", stderr: "piped" })
    .output();
  const s = (performance.now() - t0) / 1000;
  const err = dec.decode(o.stderr);
  if (!o.success) throw new Error(`${cmd.join(" ")} failed: ${err.slice(-2000)}`);
  const m = /__RSS__ (\d+)/.exec(err);
  return { s, rssKiB: m ? Number(m[1]) : NaN, stdout: dec.decode(o.stdout) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const mib = (b: number) => (b / 1048576).toFixed(1);
const ok = (good: boolean) => good ? "ok" : "MISS";

/** Child mode: `--unpack-child <target> <layers.json>`; prints the in-process unpack seconds. */
async function unpackChild(target: string, layersJson: string): Promise<void> {
  const { unpackLayers } = await import("../lib/unpack/mod.ts");
  const layers = JSON.parse(await Deno.readTextFile(layersJson));
  const t0 = performance.now();
  await unpackLayers(target, layers, {});
  console.log(`__UNPACK__ ${(performance.now() - t0) / 1000}`);
}

interface SizeResult {
  mb: number;
  blobBytes: number;
  podPull: number;
  podPullRss: number;
  unpackIn: number;
  unpackWall: number;
  unpackRss: number;
  tar: number;
  tarRss: number;
  podman?: number;
  podmanRss?: number;
}

/** Removes a temp podman root (as root, podman leaves a private bind mount on `root/overlay`). */
async function removePodmanRoot(root: string): Promise<void> {
  await removePodmanStore(root);
}

/** Temp podman roots, removed at the end (see {@link main}). */
const podmanRoots: string[] = [];

async function podmanPath(): Promise<boolean> {
  return (await new Deno.Command("sh", { args: ["-c", "command -v podman"], stdout: "null" }).output())
    .success;
}

/**
 * Waits for the dirty pages of earlier runs to reach the disk (`sync`, not timed), so each timed run starts
 * from the same state instead of competing with the previous run's writeback.
 */
async function settle(): Promise<void> {
  await new Deno.Command("sync").output();
}

/** One timed `podman pull` into a temp root of its own (removed at the end, see {@link main}). */
async function podmanPull(ref: string, work: string, path: string): Promise<Timed> {
  // podman refuses a runroot longer than 50 characters: a short temp dir of its own
  const root = await Deno.makeTempDir({ prefix: "pm-" });
  podmanRoots.push(root);
  await settle();
  return await timed([
    "podman",
    ...podmanStoreArgs(root),
    "pull",
    "-q",
    "--tls-verify=false",
    ref,
  ], { PATH: path, HOME: work, XDG_RUNTIME_DIR: `${root}/xdg` });
}

async function benchSize(reg: Registry, work: string, mb: number, layers: number, runs: number) {
  const img = await bigImage(reg, mb, { layers, repo: `test/big${mb}` });
  const blobBytes = img.layers.reduce((n, l) => n + l.size, 0);
  console.log(
    `\nimage ${img.ref}: ${img.layers.length} layers, ${mib(blobBytes)} MiB compressed, ${mb} MiB of data`,
  );
  const env = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: work,
    REGISTRY_AUTH_FILE: `${work}/auth.json`,
    DENO_NO_UPDATE_CHECK: "1",
  };

  // pod pull and podman pull, alternating (a fresh store each run), each after a `sync`
  const havePodman = await podmanPath();
  const pulls: Timed[] = [];
  const pm: Timed[] = [];
  let store = "";
  for (let i = 0; i < runs; i++) {
    store = `${work}/pod-${mb}-${i}`;
    await settle();
    pulls.push(
      await timed([Deno.execPath(), "run", "-A", CLI, "pull", "-q", img.ref], { ...env, POD_HOME: store }),
    );
    if (havePodman) pm.push(await podmanPull(img.ref, work, env.PATH));
  }
  const podPull = median(pulls.map((r) => r.s));
  const podPullRss = Math.max(...pulls.map((r) => r.rssKiB));

  // pod unpack (child process, fresh target each run)
  const layersIn = img.layers.map((l) => ({
    path: `${store}/blobs/sha256/${l.digest.slice(7)}`,
    mediaType: l.mediaType,
    digest: l.digest,
    diffId: l.diffId,
  }));
  const layersJson = `${work}/layers-${mb}.json`;
  await Deno.writeTextFile(layersJson, JSON.stringify(layersIn));
  const unp: { inS: number; t: Timed }[] = [];
  for (let i = 0; i < runs; i++) {
    const target = `${work}/rootfs-${mb}-${i}`;
    await Deno.mkdir(target);
    await settle();
    const t = await timed([Deno.execPath(), "run", "-A", SELF, "--unpack-child", target, layersJson], env);
    unp.push({ inS: Number(/__UNPACK__ (\S+)/.exec(t.stdout)?.[1]), t });
  }
  const unpackIn = median(unp.map((u) => u.inS));
  const unpackWall = median(unp.map((u) => u.t.s));
  const unpackRss = Math.max(...unp.map((u) => u.t.rssKiB));

  // GNU tar -xzf of the same blobs, in order, into one dir
  const tars: Timed[] = [];
  for (let i = 0; i < runs; i++) {
    const target = `${work}/tar-${mb}-${i}`;
    await Deno.mkdir(target);
    const script = layersIn.map((l) => `tar -xzf '${l.path}' -C '${target}'`).join(" && ");
    await settle();
    tars.push(await timed(["sh", "-c", script], env));
  }
  const tar = median(tars.map((r) => r.s));
  const tarRss = Math.max(...tars.map((r) => r.rssKiB));

  const r: SizeResult = {
    mb,
    blobBytes,
    podPull,
    podPullRss,
    unpackIn,
    unpackWall,
    unpackRss,
    tar,
    tarRss,
  };

  if (pm.length > 0) {
    r.podman = median(pm.map((x) => x.s));
    r.podmanRss = Math.max(...pm.map((x) => x.rssKiB));
  }
  return r;
}

async function sha256Bench(work: string): Promise<void> {
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
    `\nsha256 (256 MiB, page cache): node:crypto ${ours.toFixed(0)} MiB/s, sha256sum ${
      theirs.toFixed(0)
    } MiB/s → ratio ${(ours / theirs).toFixed(2)}`,
  );
  await Deno.remove(file);
}

/** Runs the benchmark against `shared` (a running registry) or a registry of its own. */
export async function main(shared?: Registry): Promise<void> {
  const sizes = argStr("sizes", "50,150").split(",").map(Number);
  const layers = Number(argStr("layers", "4"));
  const runs = Number(argStr("runs", "3"));
  const havePodman = await podmanPath();
  if (!havePodman) console.log("podman was not found: printing pod's numbers alone");
  const reg = shared ?? await startRegistry({ logLevel: "error" });
  const work = await Deno.makeTempDir({ prefix: "pod-bench-pull-" });
  const results: SizeResult[] = [];
  try {
    for (const mb of sizes) results.push(await benchSize(reg, work, mb, layers, runs));
    await sha256Bench(work);
  } finally {
    if (!shared) await reg.stop();
    for (const root of podmanRoots.splice(0)) await removePodmanRoot(root);
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }

  const f = (x: number | undefined, d = 2) => x === undefined ? "-" : x.toFixed(d);
  console.log(`\n== pull + unpack (median of ${runs}; wall s; RSS = peak MiB) ==`);
  const treeInPull = Deno.uid() === 0;
  const rows: string[][] = [[
    "MiB data",
    treeInPull ? "pod pull (+tree)" : "pod pull",
    "pod unpack alone",
    "pod pull+unpack",
    "podman pull",
    "ratio (≤0.5)",
    "tar -xzf",
    "unpack/tar (≤1.0)",
    "RSS pull",
    "RSS unpack",
    "RSS podman",
    "RSS tar",
  ]];
  for (const r of results) {
    const pu = treeInPull ? r.podPull : r.podPull + r.unpackIn;
    rows.push([
      String(r.mb),
      f(r.podPull),
      `${f(r.unpackIn)} (${f(r.unpackWall)} proc)`,
      f(pu),
      f(r.podman),
      r.podman ? `${f(pu / r.podman)} ${ok(pu / r.podman <= 0.5)}` : "-",
      f(r.tar),
      `${f(r.unpackIn / r.tar)} ${ok(r.unpackIn / r.tar <= 1)}`,
      f(r.podPullRss / 1024, 0),
      f(r.unpackRss / 1024, 0),
      r.podmanRss ? f(r.podmanRss / 1024, 0) : "-",
      f(r.tarRss / 1024, 0),
    ]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((l) => l[i].length)));
  for (const l of rows) console.log(l.map((c, i) => c.padStart(w[i])).join("  "));
  const peak = results.map((r) => Math.max(r.podPullRss, r.unpackRss) / 1024);
  console.log(
    `peak RSS target ≤ 80 MiB: ${peak.map((p) => p.toFixed(0)).join(" / ")} MiB → ${
      ok(peak.every((p) => p <= 80))
    }`,
  );
  if (results.length >= 2) {
    const a = results[0], b = results[results.length - 1];
    const grow = (x: number, y: number) => `${((y / x - 1) * 100).toFixed(0)}%`;
    console.log(
      `RSS growth ${a.mb} → ${b.mb} MiB: pull ${grow(a.podPullRss, b.podPullRss)}, unpack ${
        grow(a.unpackRss, b.unpackRss)
      } (flat = within ~10%)`,
    );
  }
  console.log(
    treeInPull
      ? "pod pull+unpack = the whole `pod pull` process (it builds the image tree as root), like podman's pull."
      : "pod pull+unpack = `pod pull` + the in-process unpack (rootless trees are built at the first start).",
  );
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--unpack-child");
  if (i >= 0) await unpackChild(Deno.args[i + 1], Deno.args[i + 2]);
  else await main();
}
