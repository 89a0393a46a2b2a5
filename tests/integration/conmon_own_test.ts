/**
 * conmon2 (issue 13): conmon supervises detached containers of pod's own runtime (through the shim,
 * lib/ns/conmon_shim.ts), root and rootless: conmon is the init's parent and `State.ConmonPid`; logs, exit codes
 * (`wait`, inspect, the `died` event), a kill (137), stop, a restart policy, `run -d --rm`, the network torn down
 * when the container ends by itself; `-i`, a health check and `POD_SUPERVISOR=perl` keep the perl supervisor.
 * @module
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { inspectFormat as inspect, until } from "../helpers/poll.ts";
import { freePort, networkSkipReason } from "../helpers/net.ts";
import type { TempPodHome } from "../helpers/pod.ts";

/** A container command that runs until the test lets it go (`exec … touch /tmp/go`), not for a fixed time a loaded machine can outlast. */
const UNTIL_GO = "while [ ! -e /tmp/go ]; do sleep 0.1; done";

const CONMON = (() => {
  try {
    return Deno.statSync("/usr/bin/conmon").isFile;
  } catch {
    return false;
  }
})();
if (!CONMON) console.log("conmon_own_test: conmon missing (apt-get install conmon): skipped");

/** The init's parent: its pid and /proc comm. */
function parentOf(pid: string): { ppid: string; comm: string } {
  const ppid = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ")[1];
  return { ppid, comm: Deno.readTextFileSync(`/proc/${ppid}/comm`).trim() };
}

async function ok(h: TempPodHome, args: string[], env?: Record<string, string>): Promise<string> {
  const r = await h.pod(args, env ? { env } : undefined);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Whether a TCP port on 127.0.0.1 can be bound (nothing holds it). */
function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

if (CONMON) {
  await testRootAndRootless(
    "conmon supervises pod's own runtime",
    (mode) =>
      busyboxSuite(mode, async ({ h, img }, t) => {
        await t.step("conmon is the parent; logs, exit code, died event, start again", async () => {
          const pidfile = `${h.home}/conmon.pid`;
          await ok(h, [
            "run",
            "-d",
            "--name",
            "c1",
            "--conmon-pidfile",
            pidfile,
            img.ref,
            "sh",
            "-c",
            `echo out; echo err >&2; ${UNTIL_GO}; exit 7`,
          ]);
          const { ppid, comm } = parentOf(await inspect(h, "c1", "{{.State.Pid}}"));
          assert.equal(comm, "conmon");
          assert.equal(await inspect(h, "c1", "{{.State.ConmonPid}}"), ppid);
          assert.equal(Deno.readTextFileSync(pidfile).trim(), ppid);
          await ok(h, ["exec", "c1", "touch", "/tmp/go"]);
          assert.equal(await ok(h, ["wait", "c1"]), "7");
          assert.equal(await inspect(h, "c1", "{{.State.Status}} {{.State.ExitCode}}"), "exited 7");
          const logs = await h.pod(["logs", "c1"]);
          assert.equal(logs.stdout, "out\n");
          assert.equal(logs.stderr, "err\n");
          const ev = await ok(h, [
            "events",
            "--stream=false",
            "--filter",
            "container=c1",
            "--format",
            "{{.Status}} {{.ContainerExitCode}}",
          ]);
          assert.match(ev, /^died 7$/m);
          assert.match(ev, /^cleanup 7$/m);
          await ok(h, ["start", "c1"]);
          assert.equal(await ok(h, ["wait", "c1"]), "7");
          assert.equal((await h.pod(["logs", "c1"])).stdout, "out\nout\n");
        });

        await t.step("kill is 137, stop, run -d --rm", async () => {
          await ok(h, ["run", "-d", "--name", "c2", img.ref, "sleep", "100"]);
          assert.equal(parentOf(await inspect(h, "c2", "{{.State.Pid}}")).comm, "conmon");
          await ok(h, ["kill", "c2"]);
          assert.equal(await ok(h, ["wait", "c2"]), "137");
          await ok(h, ["start", "c2"]);
          await ok(h, ["stop", "-t", "1", "c2"]);
          assert.equal(await inspect(h, "c2", "{{.State.Status}}"), "exited");
          const id = await ok(h, ["run", "-d", "--rm", img.ref, "true"]);
          await until(
            "the --rm container gone",
            async () => !(await ok(h, ["ps", "-a", "-q"])).includes(id.slice(0, 12)),
          );
        });

        await t.step(
          "--pid host (unshare execs the init itself): conmon is its parent, the exit code",
          async () => {
            await ok(h, [
              "run",
              "-d",
              "--pid",
              "host",
              "--name",
              "c6",
              img.ref,
              "sh",
              "-c",
              `${UNTIL_GO}; exit 5`,
            ]);
            assert.equal(parentOf(await inspect(h, "c6", "{{.State.Pid}}")).comm, "conmon");
            await ok(h, ["exec", "c6", "touch", "/tmp/go"]);
            assert.equal(await ok(h, ["wait", "c6"]), "5");
          },
        );

        await t.step("a missing command: 127 in one line, recorded, conmon gone", async () => {
          const r = await h.pod(["run", "-d", "--name", "c5", img.ref, "/no/such/cmd"]);
          assert.equal(r.code, 127, r.stderr);
          assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
          assert.equal(await inspect(h, "c5", "{{.State.Status}} {{.State.ExitCode}}"), "exited 127");
          const id = await inspect(h, "c5", "{{.Id}}");
          await until("no conmon left for c5", async () => {
            const out = await new Deno.Command("pgrep", { args: ["-f", `conmon.*${id}`], stdout: "piped" })
              .output();
            return new TextDecoder().decode(out.stdout).trim() === "";
          });
        });

        await t.step("a restart policy through conmon's exit command", async () => {
          await ok(h, [
            "run",
            "-d",
            "--name",
            "c3",
            "--restart",
            "on-failure:2",
            img.ref,
            "sh",
            "-c",
            "exit 3",
          ]);
          await until(
            "two restarts",
            async () =>
              (await inspect(h, "c3", "{{.RestartCount}} {{.State.Status}} {{.State.Restarting}}")) ===
                "2 exited false",
          );
          assert.equal(await inspect(h, "c3", "{{.State.ExitCode}}"), "3");
        });

        const skip = networkSkipReason(mode);
        if (skip) console.log(`conmon_own_test: network step skipped: ${skip}`);
        await t.step({
          name: "the network is torn down when the container ends by itself",
          ignore: !!skip,
          fn: async () => {
            const port = freePort();
            await ok(h, [
              "run",
              "-d",
              "--name",
              "c4",
              "-p",
              `127.0.0.1:${port}:80`,
              img.ref,
              "sh",
              "-c",
              UNTIL_GO,
            ]);
            assert.equal(parentOf(await inspect(h, "c4", "{{.State.Pid}}")).comm, "conmon");
            const id = await inspect(h, "c4", "{{.Id}}");
            const dir = `${h.home}/containers/${id}`;
            assert.ok(Deno.statSync(`${dir}/network-cleanup.sh`).isFile);
            await ok(h, ["exec", "c4", "touch", "/tmp/go"]);
            assert.equal(await ok(h, ["wait", "c4"]), "0");
            // the shim's exit step ran the teardown before it wrote the exit record `wait` read
            assert.throws(() => Deno.statSync(`${dir}/network-cleanup.sh`));
            if (mode === "rootless") assert.ok(portFree(port), "the published port is still held");
          },
        });

        await t.step("-i, a health check and POD_SUPERVISOR=perl keep the perl supervisor", async () => {
          await ok(h, ["run", "-d", "-i", "--name", "p1", img.ref, "sleep", "100"]);
          await ok(h, [
            "run",
            "-d",
            "--health-cmd",
            "true",
            "--health-interval",
            "30s",
            "--name",
            "p2",
            img.ref,
            "sleep",
            "100",
          ]);
          await ok(h, ["run", "-d", "--name", "p3", img.ref, "sleep", "100"], { POD_SUPERVISOR: "perl" });
          for (const n of ["p1", "p2", "p3"]) {
            assert.equal(parentOf(await inspect(h, n, "{{.State.Pid}}")).comm, "perl", n);
          }
          await ok(h, ["rm", "-f", "-t", "0", "p1", "p2", "p3", "c1", "c2", "c3", "c4", "c5", "c6"]);
        });
      }),
  );
}
