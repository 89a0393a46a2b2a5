/**
 * `RUN --mount` made real for one RUN: each parsed {@link RunMount} becomes a mount of the RUN container.
 * - bind: a directory or file of the context, resolved inside it (chroot rules of lib/unpack/contain.ts, `../`
 *   refused), bound read-only; with `rw` a private copy is bound instead (the RUN's writes are discarded).
 *   `from=STAGE|IMAGE`: the source is copied out of that stage's or image's layers through the unpacker.
 * - cache: a directory of the store (`<root>/build-mounts/<hash of id>`) that lives across builds (until
 *   `image prune --build-cache`); made with
 *   `mode`/`uid`/`gid` (as the container sees them) the first time; `sharing=locked|private` holds a lock on it
 *   while the RUN runs.
 * - tmpfs: a fresh tmpfs (`size`).
 * - secret: the `--secret`'s value in a private file (`mode`, default 0400, `uid`/`gid`), bound read-only.
 * The mount points the runtime had to create are left out of the RUN's layer ({@link withoutMountStubs}).
 * @module
 */

import { PodError } from "../errors.ts";
import type { MountRequest } from "../container/mount_options.ts";
import { cleanName, Root, RuleError } from "../unpack/contain.ts";
import type { TarWriteEntry } from "../unpack/tar_write.ts";
import type { ImageFiles } from "./image_files.ts";
import type { RunMount } from "./run_mount_spec.ts";
import { readSecret, type SecretSource } from "./secrets.ts";

/** What preparing the mounts needs from the build. */
export interface RunMountContext {
  /** The store. */
  root: string;
  /** The context directory. */
  contextDir: string;
  /** `--secret`s by id. */
  secrets: Map<string, SecretSource>;
  /** The files of the stage or image `ref` names (for `from=`). */
  fromFiles: (ref: string) => Promise<ImageFiles>;
}

/** The mounts of one RUN, ready for its container. */
export interface PreparedMounts {
  /** For the container spec. */
  mounts: MountRequest[];
  /** Their destinations (the stubs to leave out of the layer). */
  targets: string[];
  /** Removes the temporary copies and releases cache locks. */
  release(): Promise<void>;
}

/** Where the cache mount `id` lives in the store. */
export async function cacheMountDir(root: string, id: string): Promise<string> {
  const hex = [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id)))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${root}/build-mounts/${hex.slice(0, 32)}`;
}

/** `image prune --build-cache`: removes every cache mount directory (none may be in use: the store is locked by the caller or idle). */
export async function removeCacheMounts(root: string): Promise<void> {
  try {
    await Deno.lstat(`${root}/build-mounts`);
  } catch {
    return;
  }
  await removeTree(`${root}/build-mounts`);
}

function rootless(): boolean {
  return Deno.uid() !== 0;
}

/** chown as the container sees ids: rootless through a user namespace with the user's subordinate ranges. */
async function chownInContainer(path: string, uid: number, gid: number): Promise<void> {
  if (!rootless()) return await Deno.chown(path, uid, gid);
  if (uid === 0 && gid === 0) return;
  const r = await new Deno.Command("unshare", {
    args: ["--user", "--map-auto", "--map-root-user", "chown", `${uid}:${gid}`, path],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!r.success) {
    throw new PodError(
      `setting the owner of a RUN mount to ${uid}:${gid}: ${new TextDecoder().decode(r.stderr).trim()}`,
    );
  }
}

/** Removes `dir`, rootless through the user namespace when the RUN left files of other ids in it. */
async function removeTree(dir: string): Promise<void> {
  try {
    await Deno.remove(dir, { recursive: true });
  } catch {
    if (!rootless()) return;
    await new Deno.Command("unshare", {
      args: ["--user", "--map-auto", "--map-root-user", "rm", "-rf", dir],
      stdout: "null",
      stderr: "null",
    }).output().catch(() => {});
  }
}

/** The host path of `source` in the context: inside it, `../` refused. */
export function contextSource(contextDir: string, source: string | undefined): string {
  try {
    cleanName(source ?? "", `source "${source}"`);
    const path = new Root(contextDir).resolve(source ?? "/", { follow: true });
    Deno.lstatSync(path); // resolved inside the context: a link out of it points at nothing there
    return path;
  } catch (e) {
    if (e instanceof RuleError) {
      throw new PodError(`bind mount source "${source}" is outside the build context`);
    }
    if (e instanceof Deno.errors.NotFound) {
      throw new PodError(`bind mount source "${source}": no such file or directory in the build context`);
    }
    throw e;
  }
}

/** Prepares the mounts of one RUN (see the module notes). */
export async function prepareRunMounts(ms: RunMount[], c: RunMountContext): Promise<PreparedMounts> {
  const temps: string[] = [];
  const locks: Deno.FsFile[] = [];
  const mounts: MountRequest[] = [];
  const tmpDir = async () => {
    await Deno.mkdir(`${c.root}/tmp`, { recursive: true });
    const d = await Deno.makeTempDir({ dir: `${c.root}/tmp`, prefix: "build-mount-" });
    temps.push(d);
    return d;
  };
  const release = async () => {
    for (const l of locks) l.close();
    for (const t of temps) await removeTree(t);
  };
  try {
    for (const m of ms) {
      const base = { destination: m.target, readonly: m.readonly, options: [] as string[] };
      if (m.type === "tmpfs") {
        const data = [
          m.size !== undefined ? `size=${m.size}` : "",
          m.mode !== undefined ? `mode=${m.mode.toString(8)}` : "",
        ]
          .filter(Boolean).join(",");
        mounts.push({ ...base, type: "tmpfs", readonly: false, data: data || undefined });
      } else if (m.type === "cache") {
        const dir = await cacheMountDir(c.root, m.id!);
        let made = false;
        try {
          await Deno.mkdir(dir, { recursive: false });
          made = true;
        } catch (e) {
          if (e instanceof Deno.errors.NotFound) {
            await Deno.mkdir(`${c.root}/build-mounts`, { recursive: true, mode: 0o700 });
            await Deno.mkdir(dir);
            made = true;
          } else if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
        }
        if (made) {
          await Deno.chmod(dir, m.mode ?? 0o755);
          await chownInContainer(dir, m.uid ?? 0, m.gid ?? 0);
        }
        if (m.sharing === "locked" || m.sharing === "private") {
          const lock = await Deno.open(`${dir}.lock`, { create: true, write: true });
          await lock.lock(true);
          locks.push(lock);
        }
        mounts.push({ ...base, type: "bind", source: dir });
      } else if (m.type === "secret") {
        const s = c.secrets.get(m.id!);
        if (!s) {
          if (m.required) throw new PodError(`secret required but no secret with id "${m.id}" found`);
          continue; // as buildah: an optional secret that was not given is not mounted
        }
        const file = `${await tmpDir()}/${m.id!.replace(/[^\w.-]/g, "_")}`;
        await Deno.writeFile(file, await readSecret(s), { mode: 0o600 });
        await Deno.chmod(file, m.mode ?? 0o400);
        await chownInContainer(file, m.uid ?? 0, m.gid ?? 0);
        mounts.push({ ...base, type: "bind", source: file, readonly: true });
      } else if (m.from === undefined) {
        const src = contextSource(c.contextDir, m.source);
        if (m.readonly) mounts.push({ ...base, type: "bind", source: src });
        else {
          // rw: the RUN writes to a copy, never to the context
          const d = await tmpDir();
          const r = await new Deno.Command("cp", { args: ["-a", "--", src, `${d}/m`], stderr: "piped" })
            .output();
          if (!r.success) {
            throw new PodError(
              `copying bind mount source "${m.source ?? "."}": ${new TextDecoder().decode(r.stderr).trim()}`,
            );
          }
          mounts.push({ ...base, type: "bind", source: `${d}/m` });
        }
      } else {
        mounts.push({
          ...base,
          type: "bind",
          source: await copyFromImage(await c.fromFiles(m.from), m, await tmpDir()),
        });
      }
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { mounts, targets: ms.map((m) => m.target), release };
}

/** Copies `m.source` out of `files` into `dir` through the unpacker; returns the copy's path. */
async function copyFromImage(files: ImageFiles, m: RunMount, dir: string): Promise<string> {
  let parts: string[];
  try {
    parts = cleanName(m.source ?? "", `source "${m.source}"`);
  } catch {
    throw new PodError(`bind mount source "${m.source}" is outside of ${m.from}`);
  }
  const key = files.resolve(parts.join("/"));
  if (key === undefined) {
    throw new PodError(`bind mount source "${m.source ?? "/"}": no such file or directory in ${m.from}`);
  }
  const wanted = new Map<string, string>();
  const top = "m";
  wanted.set(key, top);
  for (const k of files.under(key)) wanted.set(k, `${top}/${key === "" ? k : k.slice(key.length + 1)}`);
  const uid = Deno.uid(), gid = Deno.gid();
  const own = rootless() && uid !== null && gid !== null ? { uid, gid } : undefined;
  const [{ writeTar }, { applyLayer }] = await Promise.all([
    import("../unpack/tar_write.ts"),
    import("../unpack/mod.ts"),
  ]);
  const entries = files.stream(wanted, (e) => (own ? { ...e, ...own } : e));
  await applyLayer(dir, ReadableStream.from(writeTar(entries)), {
    digest: `RUN --mount from=${m.from}`,
    mediaType: "application/vnd.oci.image.layer.v1.tar",
  });
  return `${dir}/${top}`;
}

/**
 * The RUN layer's entries without the mount points the runtime created for `targets`: an entry named as a
 * target is dropped; a directory above a target is held back and written only when something else under it
 * is (tar lists a directory before its contents).
 */
export function withoutMountStubs(
  targets: string[],
): (entries: AsyncIterable<TarWriteEntry>) => AsyncGenerator<TarWriteEntry> {
  const names = new Set(targets.map((t) => t.replace(/^\/+/, "")));
  const above = new Set<string>();
  for (const n of names) {
    const parts = n.split("/");
    for (let i = 1; i < parts.length; i++) above.add(parts.slice(0, i).join("/"));
  }
  return async function* (entries) {
    let held: TarWriteEntry[] = [];
    for await (const e of entries) {
      const name = e.name.replace(/\/+$/, "");
      if (names.has(name)) continue;
      if (e.type === "dir" && above.has(name)) {
        held.push(e);
        continue;
      }
      const out = held.filter((h) => name.startsWith(h.name.replace(/\/+$/, "") + "/"));
      if (out.length) {
        yield* out;
        held = held.filter((h) => !out.includes(h));
      }
      yield e;
    }
  };
}
