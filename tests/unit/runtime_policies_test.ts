/**
 * The parsing of issue 13's process-policy flags (podman's messages): `--restart`, health check flags and the
 * image's HEALTHCHECK, `--device`, `--group-add`, `--sysctl`, `--security-opt mask/unmask`; and the restart
 * policy's decisions (which exits restart, the backoff).
 */
import assert from "node:assert/strict";
import {
  groupAdd,
  mergeEnv,
  parseDevice,
  parseSysctls,
  restartPolicy,
  timezoneFile,
} from "../../lib/container/runtime_options.ts";
import { healthcheckConfig, healthcheckInspect } from "../../lib/container/healthcheck_config.ts";
import { healthArgs } from "../../lib/container/healthcheck.ts";
import { maskedPaths } from "../../lib/container/security.ts";
import { restartDelay, wantsRestart } from "../../lib/container/restart_policy.ts";
import type { ContainerRecord } from "../../lib/store/container_types.ts";
import { MASKED_PATHS, READONLY_PATHS } from "../../lib/ns/spec.ts";

Deno.test("--restart: podman's policies and messages", () => {
  assert.equal(restartPolicy({ restart: "no" }), undefined);
  assert.equal(restartPolicy({}), undefined);
  assert.deepEqual(restartPolicy({ restart: "always" }), { name: "always", maxRetries: 0 });
  assert.deepEqual(restartPolicy({ restart: "on-failure:4" }), { name: "on-failure", maxRetries: 4 });
  assert.deepEqual(restartPolicy({ restart: "unless-stopped" }), { name: "unless-stopped", maxRetries: 0 });
  assert.throws(
    () => restartPolicy({ restart: "always", rm: true }),
    /the --rm option conflicts with --restart, when the restartPolicy is not "" and "no"/,
  );
  assert.throws(() => restartPolicy({ restart: "bogus" }), /"bogus" is not a valid restart policy/);
  assert.throws(
    () => restartPolicy({ restart: "always:3" }),
    /retries can only be specified with on-failure/,
  );
  assert.throws(() => restartPolicy({ restart: "on-failure:x" }), /parsing "x": invalid syntax/);
});

Deno.test("health check: flags over the image's HEALTHCHECK, podman's defaults and checks", () => {
  assert.equal(healthcheckConfig({}), undefined);
  assert.equal(healthcheckConfig({ healthCmd: "none" }), undefined);
  const img = { Test: ["CMD", "true"], Interval: 5e9, Retries: 7 };
  assert.deepEqual(healthcheckConfig({}, img), {
    test: ["CMD", "true"],
    interval: 5e9,
    timeout: 30e9,
    startPeriod: 0,
    retries: 7,
    onFailure: "none",
  });
  assert.equal(healthcheckConfig({ noHealthcheck: true }, img), undefined);
  assert.equal(healthcheckConfig({}, { Test: ["NONE"] }), undefined);
  const c = healthcheckConfig(
    { healthCmd: "curl -f x", healthInterval: "2s", healthTimeout: "1m", healthStartPeriod: "1.5s" },
    img,
  )!;
  assert.deepEqual(c.test, ["CMD-SHELL", "curl -f x"]);
  assert.equal(c.interval, 2e9);
  assert.equal(c.timeout, 60e9);
  assert.equal(c.startPeriod, 1.5e9);
  assert.equal(c.retries, 7);
  assert.deepEqual(healthcheckConfig({ healthCmd: '["CMD", "a", "b"]' })!.test, ["CMD", "a", "b"]);
  assert.deepEqual(healthcheckConfig({ healthCmd: '["a", "b"]' })!.test, ["CMD", "a", "b"]);
  assert.equal(healthcheckConfig({ healthCmd: "x", healthInterval: "disable" })!.interval, 0);
  assert.throws(
    () => healthcheckConfig({ healthCmd: "x", healthInterval: "xx" }),
    /invalid healthcheck-interval/,
  );
  assert.throws(() => healthcheckConfig({ healthCmd: "x", healthInterval: "10ms" }), /at least 1 second/);
  assert.throws(() => healthcheckConfig({ healthCmd: "x", healthRetries: 0 }), /must be greater than 0/);
  assert.throws(
    () => healthcheckConfig({ healthCmd: "x", healthOnFailure: "bogus" }),
    /invalid on-failure action "bogus" for health check: supported actions are none,kill,restart,stop/,
  );
  assert.deepEqual(healthcheckInspect(c), {
    Test: ["CMD-SHELL", "curl -f x"],
    StartPeriod: 1.5e9,
    Interval: 2e9,
    Timeout: 60e9,
    Retries: 7,
  });
  assert.deepEqual(healthArgs(["CMD-SHELL", "a b"]), ["/bin/sh", "-c", "a b"]);
  assert.deepEqual(healthArgs(["CMD", "a", "b"]), ["a", "b"]);
});

Deno.test("--device: HOST[:CTR][:perms]", () => {
  assert.deepEqual(parseDevice("/dev/null"), {
    source: "/dev/null",
    destination: "/dev/null",
    permissions: "",
  });
  assert.deepEqual(parseDevice("/dev/null:rw"), {
    source: "/dev/null",
    destination: "/dev/null",
    permissions: "rw",
  });
  assert.deepEqual(parseDevice("/dev/null:/dev/x:rwm"), {
    source: "/dev/null",
    destination: "/dev/x",
    permissions: "rwm",
  });
  assert.throws(() => parseDevice("/dev/null:/dev/x:q"), /invalid device mode: q/);
  assert.throws(() => parseDevice("/dev/null:rel"), /rel is not an absolute path/);
  assert.throws(() => parseDevice("/nonexistent"), /stat \/nonexistent: no such file or directory/);
  assert.throws(() => parseDevice("/etc/hostname"), /is not a device/);
});

Deno.test("--group-add: keep-groups alone, and from the annotation", () => {
  assert.deepEqual(groupAdd({ groupAdd: ["10", "wheel,20"] }), ["10", "wheel", "20"]);
  assert.equal(groupAdd({}), undefined);
  assert.throws(
    () => groupAdd({ groupAdd: ["keep-groups", "10"] }),
    /not allowed with any other --group-add/,
  );
  assert.deepEqual(groupAdd({ annotations: { "run.oci.keep_original_groups": "1" } }), ["keep-groups"]);
});

Deno.test("--sysctl: namespaced only, not in the host's namespace", () => {
  const priv = { ipc: "private", net: "private", uts: "private" } as const;
  assert.deepEqual(parseSysctls(["net.ipv4.ip_forward=1", "kernel.shmmax=5", "fs.mqueue.msg_max=20"], priv), {
    "net.ipv4.ip_forward": "1",
    "kernel.shmmax": "5",
    "fs.mqueue.msg_max": "20",
  });
  assert.throws(() => parseSysctls(["kernel.panic=1"], priv), /sysctl 'kernel.panic' is not allowed/);
  assert.throws(
    () => parseSysctls(["net.ipv4.ip_forward=1"], { ...priv, net: "host" }),
    /sysctl net.ipv4.ip_forward=1 can't be set since Network Namespace set to host: invalid argument/,
  );
  assert.throws(() => parseSysctls(["kernel.sem=1"], { ...priv, ipc: "host" }), /IPC Namespace set to host/);
  assert.throws(() => parseSysctls(["novalue"], priv), /key=value/);
});

Deno.test("--security-opt mask/unmask: podman's lists changed", () => {
  const sec = (...securityOpt: string[]) => maskedPaths({ security: { securityOpt } });
  assert.deepEqual(sec(), { masked: MASKED_PATHS, readonly: READONLY_PATHS });
  assert.deepEqual(sec("unmask=ALL"), { masked: [], readonly: [] });
  const m = sec("mask=/a:/b", "unmask=/proc/k*:/proc/sys");
  assert.ok(m.masked.includes("/a") && m.masked.includes("/b"));
  assert.ok(!m.masked.includes("/proc/keys") && !m.masked.includes("/proc/kcore"));
  assert.ok(m.masked.includes("/proc/acpi"));
  assert.ok(!m.readonly.includes("/proc/sys") && m.readonly.includes("/proc/bus"));
});

function rec(
  policy: ContainerRecord["config"]["restartPolicy"],
  state: Partial<ContainerRecord["state"]>,
): ContainerRecord {
  return {
    config: { restartPolicy: policy } as ContainerRecord["config"],
    state: {
      status: "exited",
      pid: 0,
      startedAt: "2026-01-01T00:00:00Z",
      finishedAt: "2026-01-01T00:00:01Z",
      exitCode: 1,
      ...state,
    },
    dir: "/nonexistent",
  };
}

Deno.test("restart policy: which exits restart", () => {
  const always = { name: "always", maxRetries: 0 } as const;
  const onFailure = { name: "on-failure", maxRetries: 2 } as const;
  assert.equal(wantsRestart(rec(undefined, {})), false);
  assert.equal(wantsRestart(rec(always, { exitCode: 0 })), true);
  assert.equal(wantsRestart(rec(always, { stoppedByUser: true })), false);
  assert.equal(wantsRestart(rec(always, { status: "running" })), false);
  assert.equal(wantsRestart(rec({ name: "unless-stopped", maxRetries: 0 }, { exitCode: 0 })), true);
  assert.equal(wantsRestart(rec(onFailure, { exitCode: 0 })), false);
  assert.equal(wantsRestart(rec(onFailure, { exitCode: 3, restartCount: 1 })), true);
  assert.equal(wantsRestart(rec(onFailure, { exitCode: 3, restartCount: 2 })), false);
  assert.equal(wantsRestart(rec({ name: "on-failure", maxRetries: 0 }, { restartCount: 99 })), true);
});

Deno.test("restart policy: backoff doubles from 100 ms, capped, reset after a 10 s run", () => {
  const always = { name: "always", maxRetries: 0 } as const;
  assert.equal(restartDelay(rec(always, {})), 100);
  assert.equal(restartDelay(rec(always, { restartStreak: 3 })), 800);
  assert.equal(restartDelay(rec(always, { restartStreak: 30 })), 60_000);
  assert.equal(restartDelay(rec(always, { restartStreak: 5, finishedAt: "2026-01-01T00:00:11Z" })), 100);
});

Deno.test("--env-merge: ${VAR} and $VAR from the image's environment", () => {
  assert.deepEqual(mergeEnv(["PATH=/opt:${PATH}", "X=$A-${NOPE}"], ["PATH=/bin", "A=1"]), [
    "PATH=/opt:/bin",
    "X=1-",
  ]);
  assert.deepEqual(mergeEnv(undefined, []), []);
  assert.throws(() => mergeEnv(["novalue"], []), /invalid --env-merge/);
});

Deno.test("--tz: local or a zoneinfo name, never a path out of zoneinfo", () => {
  assert.throws(() => timezoneFile("../../etc/passwd"), /unknown time zone/);
  assert.throws(() => timezoneFile("/etc/passwd"), /unknown time zone/);
  assert.throws(() => timezoneFile("No/Such_Zone"), /finding timezone: unknown time zone No\/Such_Zone/);
});
