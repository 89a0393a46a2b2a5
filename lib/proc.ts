/**
 * Whether a process is alive, and which process a pid is: read from `/proc/<pid>/stat`.
 *
 * A zombie (state `Z`, or `X` while being reaped) is **not** alive: it has exited and only waits for its
 * parent to collect its status, so whoever waits for it to end (stop, wait, the owner of a temp file or of an
 * image tree being built, a container's waiter) must treat it as gone. Its start time (clock ticks since boot,
 * field 22) tells a process apart from a later one that reuses its pid.
 * @module
 */

/** The start time (clock ticks since boot) of the live process `pid`; undefined when it is gone or a zombie. */
export function procStartTime(pid: number): number | undefined {
  if (!(pid > 0) || !Number.isInteger(pid)) return undefined;
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so fields count from its last `)`
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  const start = Number(fields[19]);
  return Number.isFinite(start) ? start : undefined;
}

/**
 * True when `pid` is a live process (not a zombie), and, when `startTime` is given, the same process that
 * had that {@link procStartTime} (not a later one reusing the pid).
 */
export function pidAlive(pid: number, startTime?: number): boolean {
  const s = procStartTime(pid);
  return s !== undefined && (startTime === undefined || s === startTime);
}
