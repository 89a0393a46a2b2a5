/**
 * `save`'s fast docker-archive writer: the gzip layers are inflated by ISA-L's `igzip` (Debian package `isal`;
 * twice zlib's inflate speed here), several at once, each straight into its own region of the archive file.
 *
 * A docker-archive holds plain layer tars, so every entry's offset follows from the sizes before it. A gzip
 * layer's plain size is taken from its trailer (ISIZE, the size modulo 2³²): every offset is planned up front,
 * the file is sized, pod writes the headers and the small entries, and one `igzip -dc` per gzip layer writes
 * the layer's bytes at its offset (a shell positions a descriptor of the file with `dd` and hands it to
 * `igzip` as its standard output). The plan is then checked: each layer must have ended exactly where it was
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
 * Layers of less than this many plain bytes are inflated in pod's process: starting `sh`, `dd`, `igzip` and
 * `cat` (about 12 ms of CPU here) costs more than zlib's inflate of a few MiB.
 */
/** The ISIZE field of a gzip file (its last 4 bytes, little-endian); undefined when too short to be gzip. */
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
    return new DataView(b.buffer).getUint32(0, true);
  } finally {
    f.close();
  }
}

/**
 * Positions a descriptor of the archive at the body's offset (`dd` seeks its standard output, which shares
 * the descriptor), inflates into it, then prints the descriptor's position: where `igzip` stopped writing.
 */
const INFLATE_SH = 'exec 3<>"$2" && dd bs=1 count=0 seek="$3" conv=notrunc status=none >&3 && ' +
  'igzip -dc -- "$1" >&3 && exec cat "/proc/$$/fdinfo/3"';

/** Inflates `blob` into `archive` at `offset` with `igzip`; true when exactly `size` bytes were written. */
async function inflateAt(
  sh: string,
  igzipDir: string,
  blob: string,
  archive: string,
  offset: number,
  size: number,
): Promise<boolean> {
  const o = await new Deno.Command(sh, {
    args: ["-c", INFLATE_SH, "sh", blob, archive, String(offset)],
    env: { PATH: `${igzipDir}:/usr/bin:/bin` },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!o.success) return false;
  const pos = /^pos:\s*(\d+)$/m.exec(new TextDecoder().decode(o.stdout));
  return pos !== null && Number(pos[1]) === offset + size;
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

  // the inflaters, a few at a time, each writing into its own region
  // largest first: the small ones fill the gaps at the end
  const jobs = plan.filter((p) => p.e.gzipBlob !== undefined).sort((a, b) => b.size - a.size);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < jobs.length && !failed) {
      const p = jobs[next++];
      const ok = await inflateAt(sh, igzipDir, p.e.gzipBlob!, path, p.at + p.header.length, p.size);
      if (!ok) failed = true;
    }
  };
  const running = Promise.all(Array.from({ length: Math.min(inflaters(), jobs.length) }, worker));

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
    await running;
  }
  if (failed) throw new InflatePlanFailed("igzip failed, or a layer's size was not its gzip trailer's");
  return { layers: jobs.length, atOnce: Math.min(inflaters(), jobs.length) };
}

async function writeAll(f: Deno.FsFile, c: Uint8Array): Promise<void> {
  let off = 0;
  while (off < c.length) off += await f.write(c.subarray(off));
}
