import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { pidAlive, procStartTime } from "../../lib/proc.ts";
import { sameProcess } from "../../lib/container/exec_fast.ts";

Deno.test("pidAlive: this process is alive, with its own start time and not with another", () => {
  const start = procStartTime(Deno.pid);
  assert(start !== undefined && start > 0);
  assert(pidAlive(Deno.pid));
  assert(pidAlive(Deno.pid, start));
  assert(!pidAlive(Deno.pid, start! + 1));
});

Deno.test("pidAlive: no such pid, 0, negative and fractional pids are not alive", () => {
  const max = Number(Deno.readTextFileSync("/proc/sys/kernel/pid_max").trim());
  for (const pid of [max + 1, 0, -1, 1.5]) {
    assertEquals(procStartTime(pid), undefined);
    assert(!pidAlive(pid));
  }
});

Deno.test("pidAlive: a zombie is not alive", async () => {
  // the forked child exits at once and its parent never reaps it: a zombie while the parent sleeps
  const script = '$| = 1; my $p = fork(); exit 0 unless $p; print "$p\\n"; sleep 1;';
  const child = new Deno.Command("perl", { args: ["-e", script], stdout: "piped" }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  const zombie = Number(new TextDecoder().decode(value).trim());
  try {
    let state = "";
    for (let i = 0; i < 100 && state !== "Z"; i++) {
      const stat = Deno.readTextFileSync(`/proc/${zombie}/stat`);
      state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
      if (state !== "Z") await new Promise((r) => setTimeout(r, 10));
    }
    assertEquals(state, "Z");
    assert(!pidAlive(zombie));
    assert(!sameProcess(zombie, undefined));
    assertEquals(procStartTime(zombie), undefined);
  } finally {
    reader.releaseLock();
    await child.stdout.cancel();
    await child.status;
  }
});

Deno.test("sameProcess (exec's copy of pidAlive, kept off the hot path's imports) answers as pidAlive", () => {
  const start = procStartTime(Deno.pid)!;
  const max = Number(Deno.readTextFileSync("/proc/sys/kernel/pid_max").trim());
  const cases: [number, number | undefined][] = [
    [Deno.pid, undefined],
    [Deno.pid, start],
    [Deno.pid, start + 1],
    [1, undefined],
    [max + 1, undefined],
    [0, undefined],
    [-1, undefined],
    [1.5, undefined],
    [Number.NaN, undefined],
  ];
  for (const [pid, st] of cases) {
    assertEquals(sameProcess(pid, st), pidAlive(pid, st), `pid ${pid}, start ${st}`);
  }
  assert(sameProcess(Deno.pid, start), "the answer is true for this process");
});
