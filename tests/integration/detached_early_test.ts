/**
 * pods9 (issue 15): `run -d` (and `run -d --pod` once the infra runs) starts conmon and stage 2 before the
 * container exists (lib/container/start_early.ts). Such a start must run the container as a normal one (conmon
 * the parent, logs, exit code, a member in its infra's namespaces); a create that fails, a pod killed meanwhile,
 * or a start that cannot use it (an image's health check: the perl supervisor) must leave no process and no
 * directory behind, with one error line as before. Root only: rootless runs keep the start as it was.
 */
import assert from "node:assert/strict";
import { busyboxSuite, testIn } from "../helpers/modes.ts";
import { isOneLineError, processesOf, type TempPodHome } from "../helpers/pod.ts";
import { inspectFormat as inspect } from "../helpers/poll.ts";
import { busyboxTar, customImage } from "../helpers/fixtures.ts";
import { startRegistry } from "../helpers/registry.ts";

const CONMON = (() => {
  try {
    return Deno.statSync("/usr/bin/conmon").isFile;
  } catch {
    return false;
  }
})();
if (!CONMON) console.log("detached_early_test: conmon missing (apt-get install conmon): skipped");

/** The stamp a launch leaves when it sent the spec to an early stage 2 (lib/ns/launch.ts). */
const EARLY = "launch: spec sent to the early stage 2";
const TRACE = { env: { POD_TRACE_TIMES: "1" } };

/** Processes of this store other than `keep` (the running containers' own), once they had time to end. */
async function leftOver(h: TempPodHome, keep: number[]): Promise<number[]> {
  const others = () => processesOf(h).filter((p) => !keep.includes(p));
  for (let i = 0; i < 100 && others().length; i++) await new Promise((r) => setTimeout(r, 50));
  return others();
}

function containerDirs(h: TempPodHome): string[] {
  try {
    return [...Deno.readDirSync(`${h.home}/containers`)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

function parentComm(pid: string): string {
  const ppid = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ")[1];
  return Deno.readTextFileSync(`/proc/${ppid}/comm`).trim();
}

async function ok(h: TempPodHome, args: string[], opts?: { env: Record<string, string> }) {
  const r = await h.pod(args, opts);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return r;
}

if (CONMON) {
  await testIn(
    "root",
    "early start of detached containers",
    busyboxSuite("root", async ({ h, img }, t) => {
      await t.step("run -d starts early and runs as a normal start", async () => {
        // traced (stage 2 inherits the variable and stamps the log too): only whether the early start was used
        const traced = await ok(h, ["run", "-d", "--rm", img.ref, "true"], TRACE);
        assert.match(traced.stderr, new RegExp(EARLY));
        // it ends when the test says so (a file in a volume): a loaded host takes seconds for the checks below
        const go = `${h.root}/go`;
        Deno.mkdirSync(go);
        const r = await ok(h, [
          "run",
          "-d",
          "-v",
          `${go}:/go`,
          img.ref,
          "sh",
          "-c",
          "echo out; echo err >&2; until [ -e /go/now ]; do sleep 0.1; done; exit 7",
        ]);
        const id = r.stdout.trim();
        assert.match(id, /^[0-9a-f]{64}$/);
        const name = await inspect(h, id, "{{.Name}}");
        assert.match(name, /^[a-z]+_[a-z]+$/);
        // the generated name was the one conmon was given
        const pidOfConmon = await inspect(h, id, "{{.State.ConmonPid}}");
        const argv = Deno.readTextFileSync(`/proc/${pidOfConmon}/cmdline`).split("\0");
        assert.equal(argv[argv.indexOf("-n") + 1], name);
        assert.equal(parentComm(await inspect(h, id, "{{.State.Pid}}")), "conmon");
        Deno.writeTextFileSync(`${go}/now`, "");
        assert.equal((await ok(h, ["wait", id])).stdout.trim(), "7");
        const logs = await h.pod(["logs", id]);
        assert.equal(logs.stdout, "out\n");
        assert.equal(logs.stderr, "err\n");
        const ev = (await ok(h, [
          "events",
          "--stream=false",
          "--filter",
          `container=${id}`,
          "--format",
          "{{.Status}}",
        ]))
          .stdout;
        assert.deepEqual(ev.trim().split("\n"), ["create", "init", "start", "died", "cleanup"]);
        // the spec fifo is gone; the shim the launch rewrote has the exit step and still the early `create`
        // (conmon, started late under load, may only read it then)
        const run = `${h.home}/containers/${id}/run`;
        assert.ok(![...Deno.readDirSync(run)].some((e) => e.name === "spec.fifo"));
        const shim = Deno.readTextFileSync(`${run}/conmon-shim.sh`);
        assert.match(shim, /read -r c </);
        assert.match(shim, /exitCode/);
        // a start again goes the usual way
        await ok(h, ["start", id]);
        assert.equal((await ok(h, ["wait", id])).stdout.trim(), "7");
        await ok(h, ["rm", id]);
      });

      await t.step(
        "a pod member starts early once its infra runs, in its namespaces",
        async () => {
          await ok(h, ["pod", "create", "--network", "none", "--name", "ep"]);
          const first = await ok(
            h,
            ["run", "-d", "--pod", "ep", "--name", "m1", img.ref, "sleep", "100"],
            TRACE,
          );
          assert.doesNotMatch(first.stderr, new RegExp(EARLY)); // it starts the infra: as before
          const second = await ok(
            h,
            ["run", "-d", "--pod", "ep", "--name", "m2", img.ref, "sleep", "100"],
            TRACE,
          );
          assert.match(second.stderr, new RegExp(EARLY));
          const infra = await inspect(
            h,
            (await ok(h, ["pod", "inspect", "ep", "--format", "{{.InfraContainerID}}"]))
              .stdout.trim(),
            "{{.State.Pid}}",
          );
          const ns = (pid: string, kind: string) => Deno.readLinkSync(`/proc/${pid}/ns/${kind}`);
          for (const m of ["m1", "m2"]) {
            const pid = await inspect(h, m, "{{.State.Pid}}");
            assert.equal(parentComm(pid), "conmon");
            for (const kind of ["net", "ipc", "uts"]) {
              assert.equal(ns(pid, kind), ns(infra, kind), `${m} ${kind}`);
            }
          }
          const ps = (await ok(h, ["pod", "ps", "--format", "{{.Name}} {{.Status}} {{.NumberOfContainers}}"]))
            .stdout.trim();
          assert.equal(ps, "ep Running 3");
          await ok(h, ["pod", "rm", "-f", "-t", "0", "ep"]);
        },
      );

      await t.step("a create that fails leaves no process and no directory", async () => {
        await ok(h, ["create", "--name", "taken", img.ref, "true"]);
        const dirs = containerDirs(h);
        for (
          const args of [
            ["run", "-d", "--name", "taken", img.ref, "true"],
            ["run", "-d", "-v", "/nonexistent-pod-src:/x", img.ref, "true"],
            ["run", "-d", "127.0.0.1:1/none/such:latest", "true"],
          ]
        ) {
          const r = await h.pod(args);
          assert.equal(r.code, 125, `${args.join(" ")}: ${r.stderr}`);
          assert.ok(isOneLineError(r.stderr), r.stderr);
          assert.deepEqual(await leftOver(h, []), [], `${args.join(" ")}: processes left`);
          assert.deepEqual(containerDirs(h), dirs, `${args.join(" ")}: directories left`);
        }
        // a member of a pod whose infra is not running (the run starts it: no early start), failing
        for (
          const args of [
            ["run", "-d", "--pod", "ef", "--name", "taken", img.ref, "true"],
            ["run", "-d", "--pod", "ef", "127.0.0.1:1/none/such:latest", "true"],
          ]
        ) {
          await ok(h, ["pod", "create", "--network", "none", "--name", "ef"]);
          const r = await h.pod(args);
          assert.equal(r.code, 125, `${args.join(" ")}: ${r.stderr}`);
          assert.ok(isOneLineError(r.stderr), r.stderr);
          await ok(h, ["pod", "rm", "-f", "-t", "0", "ef"]);
          assert.deepEqual(await leftOver(h, []), [], `${args.join(" ")}: processes left`);
          assert.deepEqual(containerDirs(h), dirs, `${args.join(" ")}: directories left`);
        }
        await ok(h, ["rm", "taken"]);
      });

      await t.step(
        "pod killed before its container exists: conmon and stage 2 end by themselves",
        async () => {
          const p = await h.startPod(["run", "-d", "127.0.0.1:1/slow/image:latest", "true"]);
          await new Promise((r) => setTimeout(r, 700));
          p.kill("SIGKILL");
          await p.done;
          assert.deepEqual(await leftOver(h, []), [], "processes left after SIGKILL");
        },
      );

      await t.step(
        "an image's health check: the early start is given up, the perl supervisor runs it",
        async () => {
          const reg = await startRegistry();
          try {
            const hc = await customImage(reg, {
              repo: "test/health",
              layers: [await busyboxTar()],
              config: {
                Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                Cmd: ["sleep", "100"],
                Healthcheck: { Test: ["CMD", "true"], Interval: 3600_000_000_000 },
              } as never,
            });
            await ok(h, ["pull", "-q", hc.ref]);
            const r = await ok(h, ["run", "-d", "--name", "hc", hc.ref], TRACE);
            assert.doesNotMatch(r.stderr, new RegExp(EARLY));
            const pid = await inspect(h, "hc", "{{.State.Pid}}");
            assert.notEqual(parentComm(pid), "conmon");
            const id = await inspect(h, "hc", "{{.Id}}");
            const conmons = new TextDecoder().decode(
              (await new Deno.Command("pgrep", { args: ["-f", `conmon.*${id}`], stdout: "piped" }).output())
                .stdout,
            ).trim();
            assert.equal(conmons, "", "the early conmon is gone");
            await ok(h, ["rm", "-f", "-t", "0", "hc"]);
          } finally {
            await reg.stop();
          }
        },
      );
    }),
  );
}
