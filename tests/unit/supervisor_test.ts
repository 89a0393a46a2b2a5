/**
 * The detached-container supervisor (lib/ns/supervisor.ts) on its own, with stand-in commands for unshare's
 * forking sh: the init's exit code and k8s-file log reach the supervisor although the sh that forked it has
 * exited (the supervisor reaps the init as a child subreaper); nothing but the init stays beside it; it loads no
 * perl module (issue 13: its idle cost).
 */

import assert from "node:assert/strict";
import { type ExitRecord, supervisorCommand, supervisorSyscalls } from "../../lib/ns/supervisor.ts";

const havePerl =
  new Deno.Command("sh", { args: ["-c", "command -v perl && command -v setsid"], stdout: "null" })
    .outputSync().success;
const known = supervisorSyscalls()[0] !== 0;
if (!havePerl) console.log("supervisor_test: skipped, perl or setsid (util-linux) is not installed");

/** unshare's sh in a detached container: forks the init, reports its pid on fd 4, exits (unshare.ts). */
const FORK = ["sh", "-c", '"$@" 4>&- & echo $! >&4', "sh"];

async function supervise(cmd: string[], forks: boolean, during?: (supPid: number) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "pod-sup-test-" });
  try {
    const sup = supervisorCommand(`${dir}/log`, `${dir}/exit.json`, cmd, false, "", {}, forks);
    const child = new Deno.Command(sup[0], { args: sup.slice(1), stdout: "piped", stderr: "null" }).spawn();
    const [, supPid] = (await new Response(child.stdout).text()).trim().split(" ").map(Number);
    await during?.(supPid);
    await child.status; // setsid exec'd perl: the supervisor itself
    const rec = JSON.parse(await Deno.readTextFile(`${dir}/exit.json`)) as ExitRecord;
    return { rec, log: await Deno.readTextFile(`${dir}/log`) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "supervisor: the forked init's code and output; only the init stays beside the supervisor",
  ignore: !havePerl,
  fn: async () => {
    const init = "echo out; echo err >&2; read _ < /dev/zero & sleep 0.5; kill $!; exit 3";
    const { rec, log } = await supervise([...FORK, "sh", "-c", init], true, async (sup) => {
      await new Promise((r) => setTimeout(r, 200));
      const kids = (await Deno.readTextFile(`/proc/${sup}/task/${sup}/children`)).trim().split(" ");
      assert.equal(kids.length, 1, `the supervisor's children: ${kids}`);
      const cmdline = await Deno.readTextFile(`/proc/${kids[0]}/cmdline`);
      assert.match(cmdline, /^sh\0-c\0echo out/, "the init, not the forking sh");
      const maps = await Deno.readTextFile(`/proc/${sup}/maps`);
      if (known) assert.doesNotMatch(maps, /POSIX|HiRes|Fcntl/, "a perl module was loaded");
    });
    assert.equal(rec.exitCode, 3);
    assert.match(log, /^\S+ stdout F out$/m);
    assert.match(log, /^\S+ stderr F err$/m);
    assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+00:00 /);
  },
});

Deno.test({
  name: "supervisor: an init that ended before the sh reported it, one killed by a signal, a sh that failed",
  ignore: !havePerl,
  fn: async () => {
    // reports the pid 0.3 s after the init ended (a zombie then: perl does not reap it; dash would)
    const late = [
      "perl",
      "-e",
      'open(my $f, ">&=", 4) or die; my $p = fork; if (!$p) { close $f; exec { $ARGV[0] } @ARGV; exit 127 } ' +
      'select(undef, undef, undef, 0.3); print $f "$p\\n"',
    ];
    assert.equal((await supervise([...late, "sh", "-c", "exit 5"], true)).rec.exitCode, 5);
    assert.equal((await supervise([...FORK, "sh", "-c", "kill -9 $$"], true)).rec.exitCode, 137);
    assert.equal((await supervise(["sh", "-c", "exit 7"], true)).rec.exitCode, 7);
    assert.equal((await supervise(["sh", "-c", "exit 6"], false)).rec.exitCode, 6);
  },
});
