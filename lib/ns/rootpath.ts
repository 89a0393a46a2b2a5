/**
 * Resolves a container path inside a root directory with chroot semantics: absolute symlinks restart at
 * the root and `..` never climbs above it, so an image's symlink can never point a mount at the host.
 * @module
 */

/** What to create when the path (or part of it) is missing. */
export type CreateKind = "dir" | "file" | undefined;

/**
 * The host path of `path` inside `root`, every symlink resolved inside `root`.
 * Missing components are created (directories, and the last one as `create` says) when `create` is set;
 * otherwise the unresolved remainder is appended as is.
 */
export function resolveInRoot(root: string, path: string, create?: CreateKind): string {
  root = root.replace(/\/+$/, "") || "/";
  const base = root === "/" ? "" : root;
  const todo = path.split("/").filter((c) => c && c !== ".").reverse();
  const done: string[] = [];
  let links = 0;
  let missing = false;
  while (todo.length) {
    const c = todo.pop()!;
    if (c === ".") continue;
    if (c === "..") {
      done.pop();
      continue;
    }
    const host = `${base}/${[...done, c].join("/")}`;
    if (missing) {
      done.push(c);
      continue;
    }
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(host);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound) && !(e instanceof Deno.errors.NotADirectory)) throw e;
      done.push(c);
      if (!create) {
        missing = true; // the rest is resolved lexically
        continue;
      }
      if (todo.length || create === "dir") Deno.mkdirSync(host, { mode: 0o755 });
      else Deno.writeFileSync(host, new Uint8Array(0), { mode: 0o644 });
      continue;
    }
    if (info.isSymlink) {
      if (++links > 40) throw new Error(`too many levels of symbolic links in ${path}`);
      const target = Deno.readLinkSync(host);
      if (target.startsWith("/")) done.length = 0;
      todo.push(...target.split("/").filter((x) => x && x !== ".").reverse());
      continue;
    }
    done.push(c);
  }
  return `${base}/${done.join("/")}` || "/";
}
