/**
 * The library API's pods (pods2, issue 15) through `mod.ts` only: createPod (EXISTS on a taken name),
 * members joining with `create({ pod })` that reach each other on 127.0.0.1, startPod, pods/inspectPod,
 * podStats (or podman's rootless error), removePod refused while running (STATE), stopPod, killPod of a
 * stopped pod (STATE), removePod, NOT_FOUND. Run in-process by api_pods_test.ts (root), or as a script as
 * the rootless test user: `deno run -A api_pods_scenario.ts <store> <image ref>` prints the steps passed.
 * @module
 */

import assert from "node:assert/strict";
import { Pod, PodError } from "../../mod.ts";

async function rejects(p: Promise<unknown>, code: string): Promise<PodError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PodError, `not a PodError: ${e}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  throw new assert.AssertionError({ message: `expected a ${code} PodError` });
}

const SERVER = "echo hello-api-pod > /tmp/i.html; exec httpd -f -p 127.0.0.1:8080 -h /tmp";

/** Runs the sequence; returns the names of the steps passed (throws at the first failure). */
export async function apiPodsScenario(root: string, ref: string): Promise<string[]> {
  const passed: string[] = [];
  const pod = await Pod.open({ root });
  const img = await pod.pull(ref, { tlsVerify: false });
  try {
    const p = await pod.createPod({ name: "shop", labels: { team: "a" }, share: ["net", "ipc"] });
    assert.match(p.id, /^[0-9a-f]{64}$/);
    assert.equal(p.name, "shop");
    assert.equal(p.status, "Created");
    assert.deepEqual(p.labels, { team: "a" });
    assert.deepEqual(p.share, ["net", "ipc"]);
    assert.equal(p.containers.length, 1);
    assert.equal(p.containers[0].infra, true);
    assert.equal(p.containers[0].id, p.infraId);
    await rejects(pod.createPod({ name: "shop" }), "EXISTS");
    await rejects(pod.createPod({ share: ["mnt"] }), "USAGE");
    passed.push("createPod");

    await pod.create({ image: img.ref, args: ["sh", "-c", SERVER], name: "web", pod: "shop" });
    await pod.create({ image: img.ref, args: ["sleep", "600"], name: "client", pod: p.id.slice(0, 12) });
    await pod.startPod("shop");
    const running = await pod.inspectPod("shop");
    assert.equal(running.status, "Running");
    assert.deepEqual(running.containers.map((c) => [c.name, c.status, c.infra]).slice(1), [
      ["web", "running", false],
      ["client", "running", false],
    ]);
    const fetched = await pod.exec("client", [
      "sh",
      "-c",
      "for i in $(seq 100); do wget -q -O - http://127.0.0.1:8080/i.html && break; sleep 0.1; done",
    ]);
    assert.equal(new TextDecoder().decode(fetched.stdout), "hello-api-pod\n");
    assert.deepEqual((await pod.pods()).map((x) => x.id), [p.id]);
    passed.push("members share the pod's network");

    try {
      const usage = await pod.podStats(["shop"]);
      assert.deepEqual(usage.map((u) => u.podId), [p.id, p.id, p.id]);
      assert.deepEqual(usage.map((u) => u.name).slice(1), ["web", "client"]);
      for (const u of usage) assert.ok(u.memLimit > 0 && u.cpuPercent >= 0, JSON.stringify(u));
      passed.push("podStats");
    } catch (e) {
      // rootless without a cgroup v2 subtree: podman's error, not a crash
      assert.ok(e instanceof PodError && /not supported in rootless mode/.test(e.message), String(e));
      assert.notEqual(Deno.uid(), 0);
      passed.push("podStats: rootless error");
    }

    await rejects(pod.removePod("shop"), "STATE");
    await pod.stopPod("shop", { timeout: 0 });
    assert.equal((await pod.inspectPod("shop")).status, "Exited");
    await rejects(pod.killPod("shop"), "STATE");
    await pod.removePod("shop");
    assert.deepEqual(await pod.pods(), []);
    assert.deepEqual(await pod.containers({ all: true }), []);
    await rejects(pod.inspectPod("shop"), "NOT_FOUND");
    passed.push("stop, kill, remove");

    await pod.createPod({ name: "busy" });
    await pod.create({ image: img.ref, args: ["sleep", "600"], name: "m", pod: "busy" });
    await pod.create({ image: img.ref, args: ["sleep", "600"], name: "m2", pod: "busy" });
    await pod.startPod("busy");
    assert.equal((await pod.inspectPod("busy")).status, "Running");
    await pod.removePod("busy", { force: true, timeout: 0 });
    assert.deepEqual(await pod.containers({ all: true }), []);
    passed.push("removePod force");
  } finally {
    for (const x of await pod.pods().catch(() => [])) {
      await pod.removePod(x.id, { force: true, timeout: 0 }).catch(() => {});
    }
  }
  return passed;
}

if (import.meta.main) {
  const [root, ref] = Deno.args;
  console.log(JSON.stringify(await apiPodsScenario(root, ref)));
}

/**
 * The library's kube methods: playKube of a two-container Pod with a ConfigMap (env from it, an unsupported
 * field warned about through onEvent), the pod running, generateKube of it, bad YAML (USAGE, document and
 * line), downKube. Returns the steps passed.
 */
export async function apiKubeScenario(root: string, ref: string): Promise<string[]> {
  const passed: string[] = [];
  const warnings: string[] = [];
  const pod = await Pod.open({ root, onEvent: (e) => e.type === "warning" && warnings.push(e.message) });
  const yaml = `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {GREETING: hello-kube}
---
apiVersion: v1
kind: Pod
metadata: {name: kp}
spec:
  priorityClassName: high
  containers:
  - name: a
    image: ${ref}
    command: [sleep, "600"]
    env:
    - name: GREETING
      valueFrom: {configMapKeyRef: {name: cfg, key: GREETING}}
  - name: b
    image: ${ref}
    command: [sleep, "600"]
`;
  try {
    const r = await pod.playKube(yaml, { tlsVerify: false });
    assert.equal(r.pods.length, 1);
    assert.equal(r.pods[0].name, "kp");
    assert.equal(r.pods[0].containers.length, 2);
    assert.ok(warnings.some((w) => /priorityClassName/.test(w)), JSON.stringify(warnings));
    const info = await pod.inspectPod("kp");
    assert.equal(info.status, "Running");
    const env = await pod.exec(r.pods[0].containers[0], ["sh", "-c", "echo $GREETING"]);
    assert.equal(new TextDecoder().decode(env.stdout), "hello-kube\n");
    passed.push("playKube");

    const gen = await pod.generateKube(["kp"]);
    assert.match(gen, /^kind: Pod$/m);
    assert.match(gen, /name: kp/);
    passed.push("generateKube");

    const bad = await rejects(pod.playKube("apiVersion: v1\nkind: Pod\nmetadata: [\n"), "USAGE");
    assert.match(bad.message, /document 1/);
    passed.push("playKube: bad YAML");

    assert.deepEqual(await pod.downKube(yaml), [r.pods[0].id]);
    assert.deepEqual(await pod.pods(), []);
    passed.push("downKube");
  } finally {
    await pod.downKube(yaml).catch(() => {});
  }
  return passed;
}
