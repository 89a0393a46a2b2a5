/**
 * A namespace holder (scope "pods3", issue 15): what a pod's default infra container runs instead of stage 2.
 * The infra only holds the namespaces its pod shares (net, ipc, uts, pid, and rootless the user namespace);
 * nothing runs in its root, so it needs no Deno start-up, no image tree and no overlay. `unshare` makes the
 * namespaces as for any container (lib/ns/unshare.ts, the rootless maps too); inside them a tiny `sh` speaks
 * stage 2's exec fifo protocol (lib/ns/exec_fifo.ts): `pid <host pid>`, `prepared` (so stage 1 sets up the
 * network meanwhile, as for a deferred process), then waits for stage 1's answer, enters the container's
 * cgroup, sets the hostname and execs the host's `catatonit -P` (its pause mode), pid 1 of the pod's pid
 * namespace. The holder makes no mount namespace: it keeps no copy of the host's mounts alive.
 * @module
 */

import type { HolderSpec, LaunchSpec } from "./spec.ts";

/**
 * The holder's script. Its arguments: exec fifo, process fifo, pid file, hostname, hostname binary,
 * catatonit, then the cgroup.procs files to enter. `read … < /proc/self/stat` runs in the shell itself
 * (a builtin), and `/proc` is still the host's: its first field is the shell's host pid, which the exec of
 * catatonit keeps. fd 3 (the exec fifo) is closed right before that exec: EOF = the holder runs.
 */
const SCRIPT = [
  'f="$0" pf="$1" pidf="$2" hn="$3" hnbin="$4" cat="$5"; shift 5',
  'exec 3>"$f"',
  "read p _ < /proc/self/stat",
  'echo "$p" > "$pidf"',
  'echo "pid $p" >&3',
  // opened before `prepared` (stage 1 holds it open read-write until it answered): once stage 1 has written
  // the answer it closes its end, and a fifo opened only after that would wait forever for a writer
  'exec 4<"$pf"',
  "echo prepared >&3",
  "read -r line <&4 || line=abort",
  'exec 4<&-; case "$line" in abort*) exit 125;; esac',
  'for c in "$@"; do echo 0 > "$c" || { echo "125 cgroup: cannot enter $c" >&3; exit 125; }; done',
  'if [ -n "$hn" ]; then "$hnbin" "$hn" 2>/dev/null || { echo "125 cannot set the hostname $hn" >&3; exit 125; }; fi',
  'exec 3>&-; exec "$cat" -P',
].join("\n");

/** The holder's command line for `spec` (run where stage 2 would be, see lib/ns/launch.ts). */
export function holderCommand(spec: LaunchSpec, files: { fifo: string; processFifo: string; pid: string }) {
  const h = spec.holder!;
  const procs = Object.values(spec.cgroup?.dirs ?? {}).map((d) => `${d}/cgroup.procs`);
  return [
    "/bin/sh",
    "-p",
    "-c",
    SCRIPT,
    files.fifo,
    files.processFifo,
    files.pid,
    spec.namespaces.uts ? spec.hostname : "",
    h.hostname,
    h.catatonit,
    ...procs,
  ];
}

/** The host binaries a holder needs, or `undefined` when one is missing (the infra then runs stage 2). */
export async function holderBinaries(): Promise<HolderSpec | undefined> {
  const { hostBinary } = await import("./helpers_check.ts");
  const catatonit = hostBinary("catatonit");
  const hostname = hostBinary("hostname");
  return catatonit && hostname ? { catatonit, hostname } : undefined;
}
