/**
 * `volume export` and `volume import`. Export: GNU tar of the volume's data with numeric owners (rootless:
 * inside the user's namespace with its subordinate ids, so owners are as containers see them). Import: the
 * archive is untrusted, so it goes through pod's unpacker (lib/unpack: every path resolved inside the volume by
 * lib/unpack/contain.ts), never through tar.
 * @module
 */

import { PodError } from "../errors.ts";
import { getVolume, type VolumeInfo } from "./volumes.ts";

/** Where a volume's content is: its data dir, or for `-o o=bind` its `device`. */
function contentDir(v: VolumeInfo): string {
  const o = v.record.options;
  const flags = (o.o ?? "").split(",");
  return o.device && (flags.includes("bind") || flags.includes("rbind") || o.type === "bind")
    ? o.device
    : v.mountpoint;
}

/** A running export: the tar bytes, and `done`, which rejects when tar failed. */
export interface VolumeExport {
  /** The archive. */
  chunks: AsyncIterable<Uint8Array>;
  /** Settles after the stream ended; rejects with tar's first error line. */
  done: Promise<void>;
}

/** Starts exporting volume `name`. */
export async function exportVolume(root: string, name: string): Promise<VolumeExport> {
  const v = await getVolume(root, name);
  const tar = ["tar", "--numeric-owner", "--sort=name", "-C", contentDir(v), "-cf", "-", "."];
  const [cmd, args] = Deno.uid() === 0
    ? [tar[0], tar.slice(1)]
    : ["unshare", ["--user", "--map-auto", "--map-root-user", "--", ...tar]];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new PodError(`${cmd} is not installed`, { code: "MISSING_TOOL" });
    }
    throw e;
  }
  const stderr = new Response(child.stderr).text();
  const done = (async () => {
    const st = await child.status;
    if (!st.success) {
      const line = (await stderr).trim().split("\n")[0];
      throw new PodError(`exporting volume ${name}: ${line || `tar exited ${st.code}`}`);
    }
  })();
  done.catch(() => {});
  return { chunks: child.stdout, done };
}

/**
 * Extracts a tar stream (plain, gzip or zstd) into volume `name` through the unpacker. Rootless, file owners
 * other than the user cannot be set from the host: files keep the user's ids (root in the container), with
 * the unpacker warning once.
 */
export async function importVolume(
  root: string,
  name: string,
  stream: ReadableStream<Uint8Array>,
): Promise<{ bytes: number }> {
  const v = await getVolume(root, name);
  const { applyLayer } = await import("../unpack/mod.ts");
  try {
    const r = await applyLayer(contentDir(v), stream, { digest: name, mediaType: "" });
    return { bytes: r.bytes };
  } catch (e) {
    // the unpacker names the "layer"; here it is the volume
    if (e instanceof PodError && e.message.startsWith(`layer ${name}: `)) {
      throw new PodError(`importing into volume ${e.message.slice(6)}`, { code: e.code, cause: e });
    }
    throw e;
  }
}
