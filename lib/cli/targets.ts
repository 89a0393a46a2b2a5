/**
 * Applying a command to the containers named on the command line (or `--all`/`--latest`), the way podman's
 * multi-container commands do: every target is tried, each failure is reported, the last one decides the
 * exit code (1 when the only failures are missing containers, like podman `rm`/`stop`).
 * @module
 */

import { NotFoundError, PodError, UsageError } from "../errors.ts";
import { type ContainerStatus, listContainers, lookupContainerId } from "../store/containers.ts";
import { printError, println } from "./output.ts";

/**
 * The slice of a parsed command line this needs: `{ flags, args }` of a command (or an older `Parsed`).
 * Flags read: `all`, `latest`, `cidfile` (files holding ids), `filter` (`ps --filter` keys) and the ignore flag.
 */
export interface TargetArgs {
  /** Flag values (`all`, `latest` and the `ignoreFlag` are read). */
  flags: { readonly [name: string]: unknown };
  /** Positional arguments. */
  args: string[];
}

/** Which containers `--all` selects. */
export interface Selection {
  /** Only running (or paused) containers. */
  running?: boolean;
  /** Only containers in this state. */
  status?: ContainerStatus;
}

/**
 * Runs `fn` for each target. Prints each name as given (full ids with `--all`/`--latest`) unless `quiet`.
 * Returns the exit code.
 */
export async function forEachContainer(
  root: string,
  p: TargetArgs,
  sel: Selection,
  fn: (id: string) => Promise<void>,
  opts: { printIds?: boolean; quiet?: boolean; ignoreFlag?: string } = {},
): Promise<number> {
  const print = opts.printIds !== false && !opts.quiet;
  let targets: { label: string; id?: string }[];
  const cidfiles = (p.flags.cidfile as string[] | undefined) ?? [];
  const filters = (p.flags.filter as string[] | undefined) ?? [];
  const ignoreMissing = !!p.flags[opts.ignoreFlag ?? "ignore"];
  if (cidfiles.length) {
    if (p.args.length || p.flags.all || p.flags.latest) {
      throw new UsageError("--all, --latest, and --cidfile cannot be used together with container names");
    }
    targets = [];
    for (const f of cidfiles) {
      let id: string;
      try {
        id = (await Deno.readTextFile(f)).trim();
      } catch (e) {
        if (e instanceof Deno.errors.NotFound && ignoreMissing) continue;
        const why = e instanceof Deno.errors.NotFound ? "no such file or directory" : String(e);
        throw new PodError(`reading CIDFile: open ${f}: ${why}`);
      }
      targets.push({ label: id });
    }
  } else if (filters.length) {
    if (p.args.length) throw new UsageError("--filter takes no container names");
    const { filterContainers, parseContainerFilters } = await import("../container/ps.ts");
    const all = await listContainers(root);
    let list = filterContainers(all, parseContainerFilters(filters), all);
    if (sel.running) list = list.filter((c) => c.state.status === "running" || c.state.status === "paused");
    if (sel.status) list = list.filter((c) => c.state.status === sel.status);
    targets = list.map((c) => ({ label: c.config.id, id: c.config.id }));
  } else if (p.flags.all || p.flags.latest) {
    if (p.args.length) throw new UsageError("--all and --latest take no container names");
    let list = await listContainers(root);
    if (p.flags.all) {
      if (sel.running) list = list.filter((c) => c.state.status === "running" || c.state.status === "paused");
      if (sel.status) list = list.filter((c) => c.state.status === sel.status);
    } else list = list.slice(0, 1);
    targets = list.map((c) => ({ label: c.config.id, id: c.config.id }));
  } else {
    if (!p.args.length) throw new UsageError("you must provide at least one name or id");
    targets = p.args.map((a) => ({ label: a }));
  }
  const ignore = ignoreMissing;
  let last: PodError | undefined;
  let onlyMissing = true;
  for (const t of targets) {
    try {
      const id = t.id ?? await lookupContainerId(root, t.label);
      await fn(id);
      if (print) println(t.label);
    } catch (e) {
      if (e instanceof NotFoundError && ignore) continue;
      const err = e instanceof PodError ? e : new PodError(e instanceof Error ? e.message : String(e));
      if (!(e instanceof NotFoundError)) onlyMissing = false;
      if (last) printError(last);
      last = err;
    }
  }
  if (last) {
    if (onlyMissing) throw new PodError(last.message, { code: last.code, hint: last.hint, exitCode: 1 });
    throw last;
  }
  return 0;
}
