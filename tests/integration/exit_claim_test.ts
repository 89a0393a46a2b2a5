/**
 * pods7 (issue 15): a stop of a conmon-supervised container claims its exit before the signal and records it
 * itself (lib/container/exit_claim.ts); conmon's exit step (the shim) leaves. Exactly one `died`/`cleanup`
 * pair, before the `stop` event; the code is the real one (the container's own, or 128+9 after SIGKILL); the
 * cgroup removed. And the other order, forced with `POD_TEST_STOP_CLAIM_HOLD`: the container ends on its own
 * while the stop is about to claim, the shim claims and records first, the stop takes the shim's record.
 * Root and rootless.
 * @module
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { inspectFormat as inspect, until } from "../helpers/poll.ts";
import type { TempPodHome } from "../helpers/pod.ts";

const CONMON = (() => {
  try {
    return Deno.statSync("/usr/bin/conmon").isFile;
  } catch {
    return false;
  }
})();
if (!CONMON) console.log("exit_claim_test: conmon missing (apt-get install conmon): skipped");

const TRACE = { POD_TRACE_TIMES: "1" };
/** The stamp only the stop that recorded the exit itself prints. */
const RECORDED_BY_STOP = "stop: exit code read";

async function ok(h: TempPodHome, args: string[], env?: Record<string, string>) {
  const r = await h.pod(args, env ? { env } : undefined);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return r;
}

/** The container's events, `Status ExitCode` a line, in order. */
async function events(h: TempPodHome, name: string): Promise<string[]> {
  const r = await ok(h, [
    "events",
    "--stream=false",
    "--filter",
    `container=${name}`,
    "--format",
    "{{.Status}} {{.ContainerExitCode}}",
  ]);
  return r.stdout.trim().split("\n").map((l) => l.trim());
}

/** The events from the last `start` on, without `kill` (only died/cleanup/stop matter here; stop has no code). */
function afterStart(ev: string[]): string[] {
  return ev.slice(ev.lastIndexOf("start 0") + 1).filter((l) => !l.startsWith("kill")).map((l) =>
    l.startsWith("stop ") ? "stop" : l
  );
}

async function containerDir(h: TempPodHome, name: string): Promise<string> {
  return `${h.home}/containers/${await inspect(h, name, "{{.Id}}")}`;
}

function cgroupDirs(dir: string): string[] {
  return JSON.parse(Deno.readTextFileSync(`${dir}/state.json`)).cgroupDirs ?? [];
}

const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

if (CONMON) {
  await testRootAndRootless(
    "a stop records the exit itself, conmon's exit step leaves",
    (mode) =>
      busyboxSuite(mode, async ({ h, img }, t) => {
        await t.step(
          "the container's own code on SIGTERM; one died/cleanup, then stop; cgroup gone",
          async () => {
            await ok(h, [
              "run",
              "-d",
              "--name",
              "a",
              "--memory",
              "64m",
              img.ref,
              "sh",
              "-c",
              'trap "exit 3" TERM; while :; do sleep 0.1; done',
            ]);
            const dir = await containerDir(h, "a");
            const cgroups = cgroupDirs(dir);
            const r = await ok(h, ["stop", "-t", "10", "a"], TRACE);
            assert.match(r.stderr, new RegExp(RECORDED_BY_STOP), "the stop recorded the exit");
            assert.ok(await exists(`${dir}/run/exit-claim`));
            assert.equal(await inspect(h, "a", "{{.State.Status}} {{.State.ExitCode}}"), "exited 3");
            assert.equal(JSON.parse(Deno.readTextFileSync(`${dir}/exit.json`)).exitCode, 3);
            assert.deepEqual(afterStart(await events(h, "a")), ["died 3", "cleanup 3", "stop"]);
            for (const d of cgroups) assert.ok(!(await exists(d)), `cgroup ${d} removed`);
            if (!cgroups.length) {
              console.log(`exit_claim_test (${mode}): no cgroup for --memory here: not checked`);
            }
          },
        );

        await t.step("SIGKILL (stop -t 0): 137; started again, stopped again", async () => {
          await ok(h, ["run", "-d", "--name", "b", img.ref, "sleep", "100"]);
          const r = await ok(h, ["stop", "-t", "0", "b"], TRACE);
          assert.match(r.stderr, new RegExp(RECORDED_BY_STOP));
          assert.equal(await inspect(h, "b", "{{.State.Status}} {{.State.ExitCode}}"), "exited 137");
          assert.deepEqual(afterStart(await events(h, "b")), ["died 137", "cleanup 137", "stop"]);
          // a new start clears the last claim: its exit is recorded again (here by the stop, then by the shim)
          await ok(h, ["start", "b"]);
          await ok(h, ["stop", "-t", "0", "b"], TRACE);
          assert.deepEqual(afterStart(await events(h, "b")), ["died 137", "cleanup 137", "stop"]);
          await ok(h, ["start", "b"]);
          await ok(h, ["kill", "b"]);
          assert.equal((await ok(h, ["wait", "b"])).stdout.trim(), "137");
          assert.deepEqual(afterStart(await events(h, "b")), ["died 137", "cleanup 137"]);
        });

        await t.step(
          "the container ends on its own first: the shim claims and records, the stop takes it",
          async () => {
            await ok(h, [
              "run",
              "-d",
              "--name",
              "c",
              img.ref,
              "sh",
              "-c",
              'trap "exit 4" USR1; while :; do sleep 0.1; done',
            ]);
            const dir = await containerDir(h, "c");
            const hold = `${h.root}/hold-c`;
            const stop = await h.startPod(["stop", "-t", "10", "c"], {
              env: { ...TRACE, POD_TEST_STOP_CLAIM_HOLD: hold },
            });
            await until(
              "c stopping",
              async () => (await inspect(h, "c", "{{.State.Status}}")) === "stopping",
              60_000,
              20,
            );
            await ok(h, ["kill", "-s", "USR1", "c"]);
            await until("the shim's exit record", () => exists(`${dir}/exit.json`), 60_000, 20);
            Deno.writeTextFileSync(hold, "");
            const r = await stop.done;
            assert.equal(r.code, 0, r.stderr);
            assert.doesNotMatch(r.stderr, new RegExp(RECORDED_BY_STOP), "the shim recorded the exit");
            assert.equal(await inspect(h, "c", "{{.State.Status}} {{.State.ExitCode}}"), "exited 4");
            assert.deepEqual(afterStart(await events(h, "c")), ["died 4", "cleanup 4", "stop"]);
          },
        );
      }),
  );
}
