/**
 * Restart policies and health checks, root and rootless: `on-failure:N` restarts N times (RestartCount),
 * `always` is stopped for good by `stop` (StoppedByUser), `on-failure` leaves a clean exit alone, `--rm` with a
 * policy is refused; `healthcheck run` (exit 0 / 1 + `unhealthy`, podman's messages), State.Health and the ps
 * STATUS suffix, the supervisor's timer with `--health-on-failure restart`, and a foreground run's timer.
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { inspectFormat as inspect, until } from "../helpers/poll.ts";
import { errorLine, isOneLineError, type TempPodHome } from "../helpers/pod.ts";

const CATATONIT = ["/usr/libexec/podman/catatonit", "/usr/bin/catatonit"].some((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
if (!CATATONIT) console.log("restart_health_test: catatonit missing (apt-get install catatonit): skipped");

/** Waits until nothing of pod works on the container any more: exited, not restarting, no cleanup running. */
async function settled(h: TempPodHome, name: string): Promise<string> {
  let last = "";
  await until(`${name} settled`, async () => {
    last = await inspect(
      h,
      name,
      "{{.State.Status}} {{.State.Restarting}} {{.RestartCount}} {{.State.ExitCode}}",
    );
    return last.startsWith("exited false");
  });
  return last;
}

await testRootAndRootless("restart and health", (mode) =>
  busyboxSuite(mode, async ({ h, img }, t) => {
    await t.step("--restart on-failure:2: two restarts, then it stays exited", async () => {
      const r = await h.pod([
        "run",
        "-d",
        "--name",
        "onfail",
        "--restart",
        "on-failure:2",
        img.ref,
        "sh",
        "-c",
        "exit 3",
      ]);
      assert.equal(r.code, 0, r.stderr);
      await until("2 restarts", async () => (await inspect(h, "onfail", "{{.RestartCount}}")) === "2");
      assert.equal(await settled(h, "onfail"), "exited false 2 3");
      assert.deepEqual(JSON.parse(await inspect(h, "onfail", "{{json .HostConfig.RestartPolicy}}")), {
        Name: "on-failure",
        MaximumRetryCount: 2,
      });
      const byPolicy = await h.pod([
        "ps",
        "-a",
        "--filter",
        "restart-policy=on-failure",
        "--format",
        "{{.Names}}",
      ]);
      assert.equal(byPolicy.stdout.trim(), "onfail");
      // the last exit's cleanup found the retries used up: still 2 once it had time to act
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await settled(h, "onfail"), "exited false 2 3");
    });

    await t.step("--restart on-failure: a clean exit is not restarted", async () => {
      const r = await h.pod(["run", "-d", "--name", "clean", "--restart", "on-failure", img.ref, "true"]);
      assert.equal(r.code, 0, r.stderr);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await settled(h, "clean"), "exited false 0 0");
    });

    await t.step("--restart always: restarted until stopped by the user", async () => {
      const r = await h.pod([
        "run",
        "-d",
        "--name",
        "always",
        "--restart",
        "always",
        img.ref,
        "sleep",
        "0.2",
      ]);
      assert.equal(r.code, 0, r.stderr);
      await until("a restart", async () => Number(await inspect(h, "always", "{{.RestartCount}}")) >= 1);
      const stop = await h.pod(["stop", "-t", "0", "always"]);
      assert.equal(stop.code, 0, stop.stderr);
      const after = (await settled(h, "always")).split(" ")[2];
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await settled(h, "always")).split(" ")[2], after, "no restart after stop");
      // a start by the user starts the count again
      const start = await h.pod(["start", "always"]);
      assert.equal(start.code, 0, start.stderr);
      assert.equal(await inspect(h, "always", "{{.RestartCount}}"), "0");
      await h.pod(["rm", "-f", "-t", "0", "always"]);
    });

    await t.step("start --all --filter restart-policy=always starts only those (boot scripts)", async () => {
      for (const [name, policy] of [["boot1", "always"], ["boot2", "no"]]) {
        const c = await h.pod(["create", "--name", name, "--restart", policy, img.ref, "sleep", "1000"]);
        assert.equal(c.code, 0, c.stderr);
      }
      const r = await h.pod(["start", "--all", "--filter", "restart-policy=always"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await inspect(h, "boot1", "{{.State.Status}}"), "running");
      assert.equal(await inspect(h, "boot2", "{{.State.Status}}"), "created");
      await h.pod(["rm", "-f", "-t", "0", "boot1", "boot2"]);
    });

    await t.step("--rm with a restart policy is refused as podman does", async () => {
      const r = await h.pod(["run", "--rm", "--restart", "always", img.ref, "true"]);
      assert.equal(r.code, 125);
      assert.ok(isOneLineError(r.stderr), r.stderr);
      assert.equal(
        errorLine(r.stderr),
        `Error: the --rm option conflicts with --restart, when the restartPolicy is not "" and "no"`,
      );
    });

    await t.step(
      "healthcheck run: starting → unhealthy after the retries → healthy; ps and inspect",
      async () => {
        const r = await h.pod([
          "run",
          "-d",
          "--name",
          "hc",
          "--health-cmd",
          "test -e /ok",
          "--health-interval",
          "disable",
          "--health-retries",
          "2",
          img.ref,
          "sleep",
          "1000",
        ]);
        assert.equal(r.code, 0, r.stderr);
        const ps = async () =>
          (await h.pod(["ps", "--format", "{{.Status}}", "--filter", "name=^hc$"])).stdout.trim();
        assert.match(await ps(), /^Up .* \(starting\)$/);
        for (const streak of [1, 2]) {
          const run = await h.pod(["healthcheck", "run", "hc"]);
          assert.equal(run.code, 1, run.stderr);
          assert.equal(run.stdout, "unhealthy\n");
          assert.equal(await inspect(h, "hc", "{{.State.Health.FailingStreak}}"), String(streak));
        }
        assert.equal(await inspect(h, "hc", "{{.State.Health.Status}}"), "unhealthy");
        assert.match(await ps(), /\(unhealthy\)$/);
        assert.equal((await h.pod(["exec", "hc", "touch", "/ok"])).code, 0);
        const ok = await h.pod(["healthcheck", "run", "hc"]);
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(ok.stdout, "");
        const health = JSON.parse(await inspect(h, "hc", "{{json .State.Health}}"));
        assert.equal(health.Status, "healthy");
        assert.equal(health.FailingStreak, 0);
        assert.deepEqual(health.Log.map((l: { ExitCode: number }) => l.ExitCode), [1, 1, 0]);
        assert.match(await ps(), /\(healthy\)$/);
        const byHealth = await h.pod(["ps", "--filter", "health=healthy", "--format", "{{.Names}}"]);
        assert.equal(byHealth.stdout.trim(), "hc");
        assert.deepEqual(JSON.parse(await inspect(h, "hc", "{{json .Config.Healthcheck.Test}}")), [
          "CMD-SHELL",
          "test -e /ok",
        ]);
        await h.pod(["stop", "-t", "0", "hc"]);
        const stopped = await h.pod(["healthcheck", "run", "hc"]);
        assert.equal(stopped.code, 125);
        assert.match(errorLine(stopped.stderr), /^Error: container [0-9a-f]{64} is not running$/);
        const none = await h.pod(["create", "--name", "nohc", img.ref, "true"]);
        assert.equal(none.code, 0, none.stderr);
        const no = await h.pod(["healthcheck", "run", "nohc"]);
        assert.equal(no.code, 125);
        assert.match(errorLine(no.stderr), /has no defined healthcheck$/);
      },
    );

    await t.step({
      name: "the supervisor's timer: unhealthy → --health-on-failure restart",
      ignore: !CATATONIT, // the init passes the stop signal on: a quick stop
      fn: async () => {
        const r = await h.pod([
          "run",
          "-d",
          "--init",
          "--name",
          "hcr",
          "--health-cmd",
          "test -e /ok",
          "--health-interval",
          "1s",
          "--health-retries",
          "1",
          "--health-on-failure",
          "restart",
          img.ref,
          "sh",
          "-c",
          "echo started; sleep 1000",
        ]);
        assert.equal(r.code, 0, r.stderr);
        await until("a restart by the health check", async () => {
          const logs = (await h.pod(["logs", "hcr"])).stdout;
          return (logs.match(/started/g) ?? []).length >= 2;
        });
        assert.ok(Number(await inspect(h, "hcr", "{{.RestartCount}}")) >= 1);
        assert.equal(await inspect(h, "hcr", "{{.Config.HealthcheckOnFailureAction}}"), "restart");
        await h.pod(["stop", "-t", "0", "hcr"]);
      },
    });

    await t.step("a foreground run's health checks run on their interval", async () => {
      const r = await h.pod([
        "run",
        "--name",
        "hcfg",
        "--health-cmd",
        "touch /checked",
        "--health-interval",
        "1s",
        img.ref,
        "sh",
        "-c",
        "i=0; while [ $i -lt 120 ]; do test -e /checked && echo checked && exit 0; sleep 0.5; i=$((i+1)); done; exit 1",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), "checked");
    });
  }));
