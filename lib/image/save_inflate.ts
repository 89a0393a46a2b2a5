/**
 * `save`'s fast docker-archive writer: the gzip layers are inflated by ISA-L's `igzip` (Debian package `isal`;
 * twice zlib's inflate speed here), several at once, each straight into its own region of the archive file.
 *
 * A docker-archive holds plain layer tars, so every entry's offset follows from the sizes before it. A gzip
 * layer's plain size is taken from its trailer (ISIZE, the size modulo 2³²): every offset is planned up front,
 * the file is sized, pod writes the headers and the small entries, and one `igzip -dc` per gzip layer writes
 * the layer's bytes at its offset (a shell positions a descriptor of the file with `dd` and hands it to
 * `igzip` as its standard output; one shell per core, each running its lane of layers in turn). The plan is then checked: each layer must have ended exactly where it was
 * planned to (the descriptor's final position, from `/proc/…/fdinfo`). A trailer that lied (a multi-member
 * gzip, a layer of 4 GiB or more), a corrupt blob or a failed `igzip` makes {@link writeInflated} throw
 * {@link InflatePlanFailed}, and `save` writes the archive again through its in-process path, which reports
 * the real error if there is one. The layers' bytes never pass through pod's process: its memory stays flat.
 * @module
 */

import {
  encodeHeader,
  endOfArchive,
  padding,
  tarEntryChunks,
  type TarWriteEntry,
} from "../unpack/tar_write.ts";
import { OrderedWriter } from "./ordered_writer.ts";

/** An archive entry; `gzipBlob` (a blob file's path) for a gzip layer whose body `igzip` writes. */
export interface PlannedEntry {
  /** The tar entry (for a gzip layer its size is ignored: the trailer's is used). */
  entry: TarWriteEntry;
  /** The gzip blob to inflate into the entry's body. */
  gzipBlob?: string;
}

/** The plan could not be carried out (or did not hold): write the archive another way. */
export class InflatePlanFailed extends Error {}

/** Most `igzip` processes at once: one per core (they do the work; pod only waits). */
function inflaters(): number {
  return Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 4));
}

/**
 * The ISIZE field of a gzip file (its last 4 bytes, little-endian): the plain size of its last member, modulo
 * 2³². Undefined when the file is too short to be gzip, or larger than deflate could have made that many bytes
 * (stored blocks add 5 bytes per 64 KiB): then the file holds more than that one member (an eStargz layer ends
 * with an empty member), and the size is known to be wrong before anything is inflated.
 */
export async function gzipTrailerSize(path: string): Promise<number | undefined> {
  const f = await Deno.open(path, { read: true });
  try {
    const size = (await f.stat()).size;
    if (size < 18) return undefined; // header 10 + empty deflate 2 + trailer 8... at the least
    await f.seek(size - 4, Deno.SeekMode.Start);
    const b = new Uint8Array(4);
    let got = 0;
    while (got < 4) {
      const n = await f.read(b.subarray(got));
      if (n === null) return undefined;
      got += n;
    }
    const isize = new DataView(b.buffer).getUint32(0, true);
    return size > isize + Math.ceil(isize / 65536) * 5 + 1024 ? undefined : isize;
  } finally {
    f.close();
  }
}

/**
 * One lane's script: for each (blob, offset) pair of its arguments after the archive's path, positions a
 * descriptor of the archive at the offset (`dd` seeks its standard output, which shares the descriptor),
 * inflates the blob into it, and prints the descriptor's position (`pos:` of `/proc/…/fdinfo`, read by the
 * shell itself): where `igzip` stopped writing. Stops at the first failure.
 */
const LANE_SH = 'a=$1; shift; while [ $# -gt 1 ]; do exec 3<>"$a" && ' +
  'dd bs=1 count=0 seek="$2" conv=notrunc status=none >&3 && igzip -dc -- "$1" >&3 && ' +
  'read -r pos < "/proc/$$/fdinfo/3" && echo "$pos" || exit 1; shift 2; done';

/** A body `igzip` writes: the blob, where the body starts, its planned size. */
interface InflateJob {
  blob: string;
  at: number;
  size: number;
}

/** Runs one lane's jobs in order in one shell; true when each one ended exactly at its planned size. */
async function runLane(sh: string, igzipDir: string, archive: string, jobs: InflateJob[]): Promise<boolean> {
  let o: Deno.CommandOutput;
  try {
    o = await new Deno.Command(sh, {
      args: ["-c", LANE_SH, "sh", archive, ...jobs.flatMap((j) => [j.blob, String(j.at)])],
      env: { PATH: `${igzipDir}:/usr/bin:/bin` },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
  } catch {
    return false; // no shell, or (a library user) no permission to run one: the in-process path
  }
  if (!o.success) return false;
  const ends = [...new TextDecoder().decode(o.stdout).matchAll(/^pos:\s*(\d+)$/gm)].map((m) => Number(m[1]));
  return ends.length === jobs.length && jobs.every((j, i) => ends[i] === j.at + j.size);
}

/** `jobs` dealt into `n` lanes, largest first, each to the lane with the least work so far. */
export function dealLanes<T extends { size: number }>(jobs: T[], n: number): T[][] {
  const lanes = Array.from(
    { length: Math.max(1, Math.min(n, jobs.length)) },
    () => ({ work: 0, jobs: [] as T[] }),
  );
  for (const j of [...jobs].sort((a, b) => b.size - a.size)) {
    const lane = lanes.reduce((min, l) => l.work < min.work ? l : min);
    lane.jobs.push(j);
    lane.work += j.size;
  }
  return lanes.map((l) => l.jobs).filter((l) => l.length > 0);
}

/**
 * Writes the tar of `entries` into `f` (a new, empty file at `path`) with the gzip layers inflated by `igzip`
 * (its absolute path) at planned offsets, in parallel. Throws {@link InflatePlanFailed} when a layer's
 * trailer size was wrong or `igzip` failed: `f` then holds no valid archive. Returns how many layers
 * `igzip` inflated and how many ran at once.
 */
export async function writeInflated(
  f: Deno.FsFile,
  path: string,
  entries: PlannedEntry[],
  igzip: string,
  sh = "/bin/sh",
): Promise<{ layers: number; atOnce: number }> {
  const igzipDir = igzip.slice(0, igzip.lastIndexOf("/")) || "/";
  // the plan: each entry's header, its size and its offset
  const plan: { e: PlannedEntry; header: Uint8Array; at: number; size: number }[] = [];
  let off = 0;
  for (const e of entries) {
    let size = e.entry.size ?? 0;
    if (e.gzipBlob !== undefined) {
      const s = await gzipTrailerSize(e.gzipBlob);
      if (s === undefined) throw new InflatePlanFailed(`${e.gzipBlob}: not a gzip file`);
      size = s;
    }
    const header = encodeHeader({ ...e.entry, size });
    plan.push({ e, header, at: off, size });
    off += header.length + size + padding(size).length;
  }
  const end = endOfArchive();
  await f.truncate(off + end.length);

  // the inflaters: one shell per core, each inflating its share of the layers into their regions
  const jobs: InflateJob[] = plan.filter((p) => p.e.gzipBlob !== undefined)
    .map((p) => ({ blob: p.e.gzipBlob!, at: p.at + p.header.length, size: p.size }));
  const lanes = dealLanes(jobs, inflaters());
  const running = Promise.all(lanes.map((l) => runLane(sh, igzipDir, path, l)));
  let failed = false;

  // meanwhile pod writes everything else: headers, small entries, uncompressed layers
  try {
    for (const p of plan) {
      await f.seek(p.at, Deno.SeekMode.Start);
      if (p.e.gzipBlob !== undefined) {
        await writeAll(f, p.header); // the body and its padding (zeros, from truncate) are the inflater's
        continue;
      }
      const w = new OrderedWriter(f);
      for await (const c of tarEntryChunks(p.e.entry)) await w.write(c);
      await w.flush();
    }
    await f.seek(off, Deno.SeekMode.Start);
    await writeAll(f, end);
  } finally {
    failed = (await running).includes(false);
  }
  if (failed) throw new InflatePlanFailed("igzip failed, or a layer's size was not its gzip trailer's");
  return { layers: jobs.length, atOnce: lanes.length };
}

async function writeAll(f: Deno.FsFile, c: Uint8Array): Promise<void> {
  let off = 0;
  while (off < c.length) off += await f.write(c.subarray(off));
}
