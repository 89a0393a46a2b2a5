/**
 * `pod exec`'s handoff (issue 16), root and rootless: a plain exec from a plan of the compiled helper
 * `execve`s the helper (lib/container/exec_fast.ts `handOver`): pod's own process becomes it, forks the
 * command, forwards signals, waits, writes the `exec`/`exec_died` lines and exits with the command's code.
 * Each case is compared with the spawn way (`POD_EXEC_HANDOFF=0`, what pod did before): exit codes 0, 3,
 * 126, 127, 137, 143 (an exit, not a death by signal), their errors, both event lines field by field, the
 * command's signal masks, dispositions, descriptors and stdin (`/dev/null`, even when pod's has data);
 * SIGTERM and SIGINT to pod's pid reach the command; `--events-backend none` writes nothing; a full log is
 * rotated. Without a C compiler the steps are skipped (named): exec then keeps perl, which has no handoff.
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { podCommand, type PodProcess, type TempPodHome } from "../helpers/pod.ts";

const hasCc = ["/usr/bin/cc", "/usr/local/bin/cc", "/usr/bin/gcc"].some((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

const SPAWN = { POD_EXEC_HANDOFF: "0" };
const TAKES_OVER = /the helper takes over/;

/** What the command sees of its process: signals, descriptors, stdin, its session and group. */
const PROBE = [
  "sh",
  "-c",
  "grep -E '^Sig(Blk|Ign|Cgt|Pnd)|^ShdPnd' /proc/self/status; ls /proc/self/fd; readlink /proc/self/fd/0; " +
  "echo stdin:$(cat | wc -c)",
];

/** The last two lines of the event log, parsed, and raw with their times cut. */
async function lastEvents(h: TempPodHome): Promise<{ parsed: Record<string, unknown>[]; shape: string[] }> {
  const lines = (await Deno.readTextFile(`${h.home}/events/events.log`)).trim().split("\n").slice(-2);
  return {
    parsed: lines.map((l) => JSON.parse(l)),
    shape: lines.map((l) => l.replace(/"Time":"[^"]*"/, '"Time":"T"')),
  };
}

/** Waits until `pod exec c test -e FILE` succeeds (bounded). */
async function waitFor(h: TempPodHome, file: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await h.pod(["exec", "c", "test", "-e", file])).code === 0) return;
  }
  assert.fail(`${file} never appeared`);
}

/** The program a process runs (its `/proc/PID/exe`). */
async function exeOf(p: PodProcess): Promise<string> {
  return await Deno.readLink(`/proc/${p.pid}/exe`);
}

await testRootAndRootless("exec handoff", (mode) =>
  busyboxSuite(mode, async ({ h, img }, t) => {
    if (!hasCc) console.log("exec handoff: skipped, no C compiler (cc) on this host: exec uses perl");
    const up = await h.pod(["run", "-d", "--name", "c", img.ref, "sh", "-c", "sleep 100000"]);
    assert.equal(up.code, 0, up.stderr);
    const id = (await h.pod(["inspect", "--format", "{{.Id}}", "c"])).stdout.trim();

    await t.step({
      name: "the plan names the handoff; a plain exec hands pod's process over, an option or -i does not",
      ignore: !hasCc,
      fn: async () => {
        assert.equal((await h.pod(["exec", "c", "true"])).code, 0); // makes the plan
        const plan = JSON.parse(await Deno.readTextFile(`${h.home}/containers/${id}/run/exec_plan.json`));
        assert.equal(plan.handoff, true);
        const r = await h.pod(["--log-level", "debug", "exec", "c", "true"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, TAKES_OVER);
        assert.doesNotMatch(r.stderr, /spawning it instead/);
        const off = await h.pod(["--log-level", "debug", "exec", "c", "true"], { env: SPAWN });
        assert.doesNotMatch(off.stderr, TAKES_OVER);
        const i = await h.pod(["--log-level", "debug", "exec", "-i", "c", "cat"], { stdin: "in" });
        assert.equal(i.stdout, "in");
        assert.doesNotMatch(i.stderr, TAKES_OVER);
        // while the command runs, pod's own process is the helper (/proc/PID/exe)
        await h.pod(["exec", "c", "rm", "-f", "/tmp/ho-ready"]);
        // it runs until the file is gone (bounded: 60 s)
        const p = await h.startPod([
          "exec",
          "c",
          "sh",
          "-c",
          "touch /tmp/ho-ready; i=0; while [ -e /tmp/ho-ready ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done",
        ]);
        await waitFor(h, "/tmp/ho-ready");
        const exe = await exeOf(p);
        await h.pod(["exec", "c", "rm", "/tmp/ho-ready"]);
        assert.equal((await p.done).code, 0);
        assert.match(exe, /\/helpers\/exec-helper-[0-9a-f]{16}$/);
      },
    });

    await t.step({
      name: "exit codes, errors and both event lines as the spawn way's",
      ignore: !hasCc,
      fn: async () => {
        const cases: [string[], number][] = [
          [["true"], 0],
          [["sh", "-c", "exit 3"], 3],
          [["sh", "-c", "kill -TERM $$"], 143],
          [["sh", "-c", "kill -KILL $$"], 137],
          [["/etc/passwd"], 126],
          [["no-such-command"], 127],
          [["/no/such"], 127],
        ];
        for (const [cmd, want] of cases) {
          const spawned = await h.pod(["exec", "c", ...cmd], { env: SPAWN });
          const before = await lastEvents(h);
          const handed = await h.pod(["exec", "c", ...cmd]);
          const after = await lastEvents(h);
          const label = cmd.join(" ");
          assert.equal(spawned.code, want, `${label}: ${spawned.stderr}`);
          assert.equal(handed.code, want, `${label}: ${handed.stderr}`);
          assert.equal(handed.signal, null, `${label}: pod died by a signal`);
          assert.equal(handed.stderr, spawned.stderr, label);
          assert.equal(handed.stdout, spawned.stdout, label);
          assert.deepEqual(after.shape, before.shape, `${label}: the event lines differ`);
          assert.deepEqual(after.parsed.map((e) => Object.keys(e)), before.parsed.map((e) => Object.keys(e)));
          const [ex, died] = after.parsed;
          assert.deepEqual([ex.Status, ex.ID, died.Status, died.Name], ["exec", id, "exec_died", "c"]);
          assert.equal(died.ContainerExitCode, want || undefined, label);
          for (const e of after.parsed) {
            assert.match(String(e.Time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
          }
          assert.ok(Date.parse(String(died.Time)) >= Date.parse(String(ex.Time)), `${ex.Time} ${died.Time}`);
          assert.ok(Date.parse(String(ex.Time)) >= Date.parse(String(before.parsed[1].Time)), "exec before");
        }
      },
    });

    await t.step({
      name: "the command's signals, descriptors and stdin as the spawn way's",
      ignore: !hasCc,
      fn: async () => {
        const spawned = await h.pod(["exec", "c", ...PROBE], { env: SPAWN, stdin: "pod's stdin" });
        const handed = await h.pod(["--log-level", "debug", "exec", "c", ...PROBE], { stdin: "pod's stdin" });
        assert.equal(handed.code, 0, handed.stderr);
        assert.match(handed.stderr, TAKES_OVER);
        assert.equal(handed.stdout, spawned.stdout);
        assert.match(handed.stdout, /^SigBlk:\s+0+$/m);
        assert.match(handed.stdout, /^SigCgt:\s+0+$/m);
        // SIGPIPE (13) not ignored; glibc's 32 and 33 as pod itself was started (see exec_test)
        const ign = BigInt(`0x${handed.stdout.match(/^SigIgn:\s+([0-9a-f]+)$/m)![1]}`);
        assert.equal(ign & ~(3n << 31n), 0n, `SigIgn ${ign.toString(16)}`);
        assert.match(handed.stdout, /^0\n1\n2\n3\n\/dev\/null\nstdin:0$/m, "descriptors 0-2 (3: ls's own)");
        // pod started with stdin closed: the command's stdin is still /dev/null
        const c = await podCommand(["exec", "c", ...PROBE], { home: h.home, user: h.user?.name });
        const closed = await new Deno.Command("/bin/sh", {
          args: ["-c", 'exec "$@" 0<&-', "sh", c.cmd, ...c.args],
          env: c.env,
          clearEnv: true,
          cwd: c.cwd,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const td = new TextDecoder();
        assert.equal(closed.code, 0, td.decode(closed.stderr));
        assert.equal(td.decode(closed.stdout), handed.stdout, "with pod's stdin closed");
      },
    });

    await t.step({
      name: "SIGTERM and SIGINT to pod's pid reach the command",
      ignore: !hasCc,
      fn: async () => {
        for (const sig of ["SIGTERM", "SIGINT"] as const) {
          const short = sig.slice(3);
          await h.pod(["exec", "c", "rm", "-f", "/tmp/sig-ready"]);
          const p = await h.startPod([
            "exec",
            "c",
            "sh",
            "-c",
            // bounded: a signal that never arrives fails the step instead of leaving a shell behind
            `trap "echo got-${short}; exit 3" ${short}; touch /tmp/sig-ready; i=0; ` +
            "while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done",
          ]);
          await waitFor(h, "/tmp/sig-ready");
          assert.match(await exeOf(p), /exec-helper-/, "not handed over");
          p.kill(sig);
          const r = await p.done;
          assert.equal(r.code, 3, r.stderr);
          assert.equal(r.stdout, `got-${short}\n`);
          const { parsed } = await lastEvents(h);
          assert.equal(parsed[1].ContainerExitCode, 3);
        }
      },
    });

    await t.step({
      name: "--events-backend none writes nothing; a full log is rotated first",
      ignore: !hasCc,
      fn: async () => {
        const log = `${h.home}/events/events.log`;
        const size = (await Deno.stat(log)).size;
        const off = await h.pod(["--events-backend", "none", "--log-level", "debug", "exec", "c", "true"]);
        assert.match(off.stderr, TAKES_OVER);
        assert.equal((await Deno.stat(log)).size, size, "events written with none");
        const before = await Deno.readTextFile(log);
        const small = await h.pod(["--log-level", "debug", "exec", "c", "true"], {
          env: { POD_EVENTS_MAX_SIZE: String(size + 100) },
        });
        assert.match(small.stderr, TAKES_OVER);
        assert.equal(await Deno.readTextFile(`${log}.1`), before, "the full log was not rotated");
        const lines = (await Deno.readTextFile(log)).trim().split("\n").map((l) => JSON.parse(l).Status);
        assert.deepEqual(lines, ["exec", "exec_died"]);
        // not full: appended
        const more = await h.pod(["exec", "c", "true"], { env: { POD_EVENTS_MAX_SIZE: "1000000" } });
        assert.equal(more.code, 0);
        assert.equal((await Deno.readTextFile(log)).trim().split("\n").length, 4);
      },
    });
  }));
