/**
 * Applying a `pod pod …` command to the pods named (or `--all`/`--latest`): each is tried, every failure is
 * reported, the last decides the exit code; the full pod id is printed for each success, as podman does.
 * @module
 */

import { NotFoundError, PodError, UsageError } from "../../errors.ts";
import type { PodRecord } from "../../store/pods.ts";
import { printError, println } from "../output.ts";

/** Runs `fn` for each pod named in `args` (or every pod with `all`, the newest with `latest`). */
export async function forEachPod(
  root: string,
  o: { args: string[]; all?: boolean; latest?: boolean; ignore?: boolean; quiet?: boolean },
  fn: (nameOrId: string) => Promise<PodRecord | void>,
): Promise<number> {
  const { listPods } = await import("../../store/pods.ts");
  let targets: string[];
  if (o.all || o.latest) {
    if (o.args.length) throw new UsageError("--all and --latest take no pod names");
    const pods = await listPods(root);
    targets = (o.latest ? pods.slice(0, 1) : pods).map((p) => p.id);
  } else {
    if (!o.args.length) throw new UsageError("you must provide at least one pod name or id");
    targets = o.args;
  }
  let last: PodError | undefined;
  for (const t of targets) {
    try {
      const pod = await fn(t);
      if (!o.quiet) println(pod ? pod.id : t);
    } catch (e) {
      if (e instanceof NotFoundError && o.ignore) continue;
      const err = e instanceof PodError ? e : new PodError(e instanceof Error ? e.message : String(e));
      if (last) printError(last);
      last = err;
    }
  }
  if (last) throw last;
  return 0;
}
