/**
 * pod started with descriptors ≥ 3 open (a caller's `time -o FILE`, a CI runner's pipes), root and rootless:
 * a detached start (`run -d`, a pod member, its infra) used to pass them on to its supervisor, whose pid pipe
 * then was not fd 4, and every detached start failed ("the container process exited (code 29)").
 * @module
 */
import { equal, match } from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { podCommand, type TempPodHome } from "../helpers/pod.ts";

const dec = new TextDecoder();

/** The file the caller's fd 9 is open on. */
const marker = (h: TempPodHome) => `${h.home}/fd9-marker`;

/** The pids of `pid`'s open descriptors that point at `path`. */
function fdsOn(pid: string, path: string): string[] {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].map((e) => e.name).filter((fd) => {
    try {
      return Deno.readLinkSync(`/proc/${pid}/fd/${fd}`) === path;
    } catch {
      return false;
    }
  });
}

/** `pod args` on `h`'s store, started by a `sh` that opened fds 3, 4 and 9 (on {@link marker}) first. */
async function podWithFds(
  h: TempPodHome,
  args: string[],
  env?: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const c = await podCommand(args, { home: h.home, userHome: h.userHome, user: h.user?.name, env });
  const o = await new Deno.Command("sh", {
    args: ["-c", 'exec 3>/dev/null 4</dev/null 9>>"$0"; exec "$@"', marker(h), c.cmd, ...c.args],
    env: c.env,
    clearEnv: true,
    cwd: c.cwd,
    stdin: "null",
  }).output();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

await testRootAndRootless(
  "detached starts with inherited fds",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const alone = await podWithFds(h, ["run", "-d", "--name", "fdalone", img.ref, "sleep", "1000"]);
      equal(alone.code, 0, alone.stderr);
      // conmon2: neither the supervisor nor the container keeps the caller's fd 9
      // the perl supervisor closes them itself (its pid pipe must be fds 3 and 4)
      const perl = await podWithFds(h, ["run", "-d", "--name", "fdperl", img.ref, "sleep", "1000"], {
        POD_SUPERVISOR: "perl",
      });
      equal(perl.code, 0, perl.stderr);
      for (const name of ["fdalone", "fdperl"]) {
        const pids = (await h.pod(["inspect", "--format", "{{.State.ConmonPid}} {{.State.Pid}}", name]))
          .stdout
          .trim().split(" ");
        equal(pids.length, 2);
        for (const pid of pids) {
          equal(fdsOn(pid, marker(h)).join(","), "", `${name}: pid ${pid} holds the caller's fd 9`);
        }
      }
      const created = await podWithFds(h, ["pod", "create", "--name", "fdpod"]);
      equal(created.code, 0, created.stderr);
      // the first member starts the infra too
      for (const name of ["fdm1", "fdm2"]) {
        const m = await podWithFds(h, [
          "run",
          "-d",
          "--pod",
          "fdpod",
          "--name",
          name,
          img.ref,
          "sleep",
          "1000",
        ]);
        equal(m.code, 0, m.stderr);
      }
      const ps = await h.pod(["ps", "--format", "{{.Names}} {{.Status}}"]);
      equal(ps.code, 0, ps.stderr);
      for (const name of ["fdalone", "fdperl", "fdm1", "fdm2"]) {
        match(ps.stdout, new RegExp(`^${name} Up`, "m"));
      }
      const rm = await podWithFds(h, ["pod", "rm", "-f", "-t", "0", "fdpod"]);
      equal(rm.code, 0, rm.stderr);
    }),
);
