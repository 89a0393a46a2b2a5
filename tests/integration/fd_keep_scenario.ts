/**
 * A long-lived library user's own descriptors stay its own (issue 13, conmon2): `deno run -A
 * fd_keep_scenario.ts <store> <image ref> <fd>` is started with `<fd>` open and inheritable; it starts a detached
 * container through `mod.ts` and prints whether `<fd>` is still inheritable (no close-on-exec) afterwards, as JSON:
 * `["inheritable"]` or `["close-on-exec"]`. The supervisor closes what it inherited itself; pod never marks the
 * calling process's fds.
 * @module
 */

import { Pod } from "../../mod.ts";

const O_CLOEXEC = 0o2000000;

/** Whether `fd` of this process has close-on-exec set (from /proc/self/fdinfo's octal `flags`). */
export function closeOnExec(fd: number): boolean {
  const info = Deno.readTextFileSync(`/proc/self/fdinfo/${fd}`);
  const flags = parseInt(/^flags:\s*([0-7]+)$/m.exec(info)?.[1] ?? "0", 8);
  return (flags & O_CLOEXEC) !== 0;
}

if (import.meta.main) {
  const [root, ref, fdArg] = Deno.args;
  const fd = Number(fdArg);
  if (closeOnExec(fd)) throw new Error(`fd ${fd} was not passed inheritable to this script`);
  const pod = await Pod.open({ root });
  await pod.pull(ref, { tlsVerify: false });
  const c = await pod.create({ image: ref, args: ["sleep", "1000"] });
  try {
    await pod.start(c.id);
  } finally {
    await pod.remove(c.id, { force: true });
  }
  console.log(JSON.stringify([closeOnExec(fd) ? "close-on-exec" : "inheritable"]));
}
