/**
 * The build context: a directory, a tar archive on stdin (`-`, gzip/zstd detected; extracted through the
 * unpacker into a temp dir), or a Containerfile alone on stdin (an empty context). Finds the Containerfile
 * (`-f`, else `Containerfile`, else `Dockerfile`) and the ignore file (`--ignorefile`, else
 * `.containerignore`, else `.dockerignore`).
 * @module
 */

import { PodError, UsageError } from "../errors.ts";
import { IgnoreRules } from "./ignore.ts";

/** An opened context. */
export interface BuildContext {
  /** The context directory (absolute, real path). */
  dir: string;
  /** The Containerfile's text. */
  containerfile: string;
  /** Its name for messages (the path as given, or `Containerfile`). */
  containerfileName: string;
  /** Ignore rules. */
  ignore: IgnoreRules;
  /** Removes what opening made (a temp dir for a context from stdin). */
  cleanup(): Promise<void>;
}

/** Options of {@link openContext}. */
export interface ContextOptions {
  /** `-f`: paths of Containerfiles (`-`: stdin); only the first is used. */
  file?: string;
  /** `--ignorefile`. */
  ignoreFile?: string;
  /** Standard input (for `-` context or `-f -`). */
  stdin?: ReadableStream<Uint8Array>;
  /** Where temp dirs go (default: the system's). */
  tmpDir?: string;
}

async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

function isArchive(b: Uint8Array): boolean {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return true; // gzip
  if (b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return true; // zstd
  return b.length >= 262 && new TextDecoder().decode(b.subarray(257, 262)) === "ustar";
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new PodError(`${what} ${path}: no such file or directory`);
    if (e instanceof Deno.errors.IsADirectory) throw new PodError(`${what} ${path} is a directory`);
    throw e;
  }
}

/** Opens the context `arg` (a directory or `-`). */
export async function openContext(arg: string, o: ContextOptions = {}): Promise<BuildContext> {
  if (/^(https?|git):\/\//.test(arg) || arg.startsWith("git@")) {
    throw new UsageError(
      `remote build contexts are not supported: ${arg} (clone or download it, then build the directory)`,
    );
  }
  let dir: string;
  let cleanup = async () => {};
  let stdinFile: string | undefined;
  if (arg === "-") {
    if (!o.stdin) throw new UsageError("no standard input to read the context from");
    const bytes = await readAll(o.stdin);
    const tmp = await Deno.makeTempDir({ dir: o.tmpDir, prefix: "pod-build-context-" });
    cleanup = () => Deno.remove(tmp, { recursive: true }).catch(() => {});
    dir = tmp;
    if (isArchive(bytes)) {
      const { applyLayer } = await import("../unpack/mod.ts");
      try {
        await applyLayer(tmp, ReadableStream.from([bytes]), {
          digest: "stdin",
          mediaType: "application/x-tar",
        });
      } catch (e) {
        await cleanup();
        throw new PodError(`reading the build context from stdin: ${e instanceof Error ? e.message : e}`);
      }
    } else {
      stdinFile = new TextDecoder().decode(bytes);
    }
  } else {
    try {
      dir = await Deno.realPath(arg);
      if (!(await Deno.stat(dir)).isDirectory) throw new UsageError(`context ${arg} is not a directory`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new PodError(`stat ${arg}: no such file or directory`, { code: "NOT_FOUND" });
      }
      throw e;
    }
  }
  try {
    let containerfile: string;
    let name: string;
    if (stdinFile !== undefined) {
      if (o.file && o.file !== "-") containerfile = await readText(o.file, "Containerfile");
      else containerfile = stdinFile;
      name = o.file && o.file !== "-" ? o.file : "Containerfile";
    } else if (o.file === "-") {
      if (!o.stdin) throw new UsageError("no standard input to read the Containerfile from");
      containerfile = new TextDecoder().decode(await readAll(o.stdin));
      name = "Containerfile";
    } else if (o.file) {
      // as podman: relative to the working directory, else to the context
      let path = o.file;
      try {
        await Deno.stat(path);
      } catch {
        if (!path.startsWith("/")) path = `${dir}/${o.file}`;
      }
      containerfile = await readText(path, "Containerfile");
      name = o.file;
    } else {
      const found = await firstExisting([`${dir}/Containerfile`, `${dir}/Dockerfile`]);
      if (!found) {
        throw new PodError(
          `no Containerfile or Dockerfile specified or found in context directory, ${dir}: no such file or directory`,
        );
      }
      containerfile = await Deno.readTextFile(found);
      name = found.slice(dir.length + 1);
    }
    let ignoreText = "";
    if (o.ignoreFile) ignoreText = await readText(o.ignoreFile, "ignore file");
    else {
      const found = await firstExisting([`${dir}/.containerignore`, `${dir}/.dockerignore`]);
      if (found) ignoreText = await Deno.readTextFile(found);
    }
    return { dir, containerfile, containerfileName: name, ignore: IgnoreRules.parse(ignoreText), cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const p of paths) {
    try {
      if ((await Deno.stat(p)).isFile) return p;
    } catch { /* next */ }
  }
  return undefined;
}
