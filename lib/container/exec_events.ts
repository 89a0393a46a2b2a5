/**
 * The `exec` and `exec_died` lines of the event log, as lib/store/events.ts writes them (same fields and
 * order), in one append; here because `exec` (container/exec.ts and its planned fast path, exec_fast.ts)
 * must not load more modules. Skipped with `POD_EVENTS_BACKEND=none`.
 * @module
 */

/** What an exec event names: the container's id, image, name and labels. */
export interface ExecEventSubject {
  id: string;
  image: string;
  name: string;
  labels?: Record<string, string>;
}

/** RFC3339Nano as Go writes it: the fraction's trailing zeros cut. */
export const goTime = (d: Date): string => d.toISOString().replace(/0+Z$/, "Z").replace(/\.Z$/, "Z");

/**
 * Appends `exec` (at `started`, a {@link goTime}) and, with `code`, `exec_died` (now) to `<root>/events/events.log`;
 * best effort (the log's dir is made by the container's own events).
 */
export function appendExecEvents(root: string, c: ExecEventSubject, started: string, code?: number): void {
  try {
    if (Deno.env.get("POD_EVENTS_BACKEND") === "none") return;
    const line = (status: string, time: string, exit?: number) =>
      JSON.stringify({
        ...(exit ? { ContainerExitCode: exit } : {}),
        ID: c.id,
        Image: c.image,
        Name: c.name,
        Status: status,
        Time: time,
        Type: "container",
        Attributes: c.labels,
      }) + "\n";
    let text = line("exec", started);
    if (code !== undefined) text += line("exec_died", goTime(new Date()), code);
    const f = Deno.openSync(`${root}/events/events.log`, { append: true, create: true, mode: 0o600 });
    try {
      f.writeSync(new TextEncoder().encode(text));
    } finally {
      f.close();
    }
  } catch { /* best effort */ }
}
