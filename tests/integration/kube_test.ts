/**
 * `kube generate/play/down`, root and rootless: the YAML of a pod validates against the Kubernetes schema
 * (npm `kubernetes-models`), playing it back (after the pod is gone) recreates working containers with the
 * same images, commands, env, working dirs and volumes, and `kube down` removes them; hand-written YAML
 * with a ConfigMap, a PVC, a hostPath, a hostPort and an init container; bad YAML is one error line.
 * As root, podman (if it runs here) plays pod's YAML too.
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
// inline npm: specifiers, as lib/container/kube/yaml.ts (the schema package is a test dependency only)
// deno-lint-ignore no-import-prefix
import YAML from "npm:yaml@2.9.1";
// deno-lint-ignore no-import-prefix
import { Pod as K8sPod, Service as K8sService } from "npm:kubernetes-models@4.5.1/v1";
// deno-lint-ignore no-import-prefix
import { Deployment as K8sDeployment } from "npm:kubernetes-models@4.5.1/apps/v1";
import { busyboxSuite, type Mode } from "../helpers/modes.ts";
import { registryAvailable } from "../helpers/registry.ts";
import { lookupUser, rootlessAvailable, TEST_USER } from "../helpers/rootless.ts";
import { isOneLineError, type TempPodHome } from "../helpers/pod.ts";
import { freePort } from "../helpers/registry.ts";
import { newLibpodParent } from "../helpers/podman_cgroups.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Validates every document of `text` with kubernetes-models; returns the documents. */
function validate(text: string): Record<string, unknown>[] {
  const docs = YAML.parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>);
  for (const d of docs) {
    // deno-lint-ignore no-explicit-any
    const model: any = { Pod: K8sPod, Service: K8sService, Deployment: K8sDeployment }[String(d.kind)];
    ok(model, `unexpected kind ${d.kind}`);
    new model(d).validate(); // throws on a schema violation
  }
  return docs;
}

async function writeAs(h: TempPodHome, path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text);
  if (h.user) await Deno.chown(path, h.user.uid, h.user.gid);
}

/** Waits until `pod logs` of `pod` shows `want` (the containers print and sleep). */
async function logsOf(h: TempPodHome, pod: string, want: RegExp): Promise<string> {
  let text = "";
  for (let i = 0; i < 100; i++) {
    text = (await h.pod(["pod", "logs", pod])).stdout;
    if (want.test(text)) return text;
    await sleep(100);
  }
  return text;
}

const SERVER = "echo hello-kube > /tmp/i.html; exec httpd -f -p 127.0.0.1:8080 -h /tmp";

async function roundTrip(h: TempPodHome, ref: string): Promise<void> {
  equal((await h.pod(["pod", "create", "--name", "kp"])).code, 0);
  const web = await h.pod([
    "run",
    "-d",
    "--pod",
    "kp",
    "--name",
    "web",
    "-e",
    "FOO=bar",
    "-w",
    "/tmp",
    "-v",
    "vol1:/data",
    ref,
    "sh",
    "-c",
    SERVER,
  ]);
  equal(web.code, 0, web.stderr);
  equal((await h.pod(["exec", "web", "sh", "-c", "echo persisted > /data/f"])).code, 0);
  equal((await h.pod(["run", "-d", "--pod", "kp", "--name", "side", ref, "sleep", "1000"])).code, 0);

  const gen = await h.pod(["kube", "generate", "kp"]);
  equal(gen.code, 0, gen.stderr);
  match(gen.stdout, /^# Save the output of this file/);
  const [podDoc] = validate(gen.stdout);
  const spec = podDoc.spec as { containers: Record<string, unknown>[]; volumes: Record<string, unknown>[] };
  equal(podDoc.kind, "Pod");
  equal((podDoc.metadata as { name: string }).name, "kp");
  deepEqual(spec.containers.map((c) => c.name), ["web", "side"]);
  deepEqual(spec.containers[0].command, ["sh", "-c", SERVER]);
  deepEqual(spec.containers[0].env, [{ name: "FOO", value: "bar" }]);
  equal(spec.containers[0].workingDir, "/tmp");
  equal(spec.containers[0].image, ref);
  deepEqual(spec.volumes, [{ name: "vol1-pvc", persistentVolumeClaim: { claimName: "vol1" } }]);

  // deployment and service shapes validate too; a single container makes a pod of its own
  const dep = validate((await h.pod(["kube", "generate", "--type", "deployment", "kp"])).stdout);
  equal(dep[0].kind, "Deployment");
  const svc = validate((await h.pod(["kube", "generate", "-s", "side"])).stdout);
  deepEqual(svc.map((d) => d.kind), ["Service", "Pod"]);
  equal(((svc[1].metadata) as { name: string }).name, "side-pod");

  // play it back once the pod is gone
  const file = `${h.root}/kp.yaml`;
  await writeAs(h, file, gen.stdout);
  equal((await h.pod(["pod", "rm", "-f", "-t", "0", "kp"])).code, 0);
  const play = await h.pod(["kube", "play", file]);
  equal(play.code, 0, play.stderr);
  const lines = play.stdout.trim().split("\n");
  equal(lines[0], "Pod:");
  match(lines[1], /^[a-f0-9]{64}$/);
  equal(lines[2], "Containers:");
  equal(lines.length, 5, play.stdout);
  const names = (await h.pod(["ps", "--format", "{{.Names}}", "--filter", "pod=kp"])).stdout.trim().split(
    "\n",
  );
  ok(names.includes("kp-web") && names.includes("kp-side"), names.join(","));
  const env = await h.pod(["exec", "kp-web", "sh", "-c", "echo $FOO; pwd; cat /data/f"]);
  deepEqual(env.stdout.trim().split("\n"), ["bar", "/tmp", "persisted"]);
  const client = await h.pod([
    "run",
    "--rm",
    "--pod",
    "kp",
    ref,
    "sh",
    "-c",
    "for i in $(seq 100); do wget -q -O - http://127.0.0.1:8080/i.html && break; sleep 0.1; done",
  ]);
  equal(client.stdout.trim(), "hello-kube", client.stderr);
  // generating again gives the same containers (names without the pod prefix)
  const again = validate((await h.pod(["kube", "generate", "kp"])).stdout)[0];
  deepEqual(
    (again.spec as typeof spec).containers.map((c) => [c.name, c.image, c.command, c.env, c.workingDir]),
    spec.containers.map((c) => [c.name, c.image, c.command, c.env, c.workingDir]),
  );

  // the deployment shape plays too: one replica, pod <name>-pod-0
  const depFile = `${h.root}/dep.yaml`;
  await writeAs(h, depFile, (await h.pod(["kube", "generate", "--type", "deployment", "kp"])).stdout);
  const depPlay = await h.pod(["kube", "play", "--start=false", depFile]);
  equal(depPlay.code, 0, depPlay.stderr);
  equal((await h.pod(["pod", "exists", "kp-deployment-pod-0"])).code, 0);
  equal((await h.pod(["kube", "down", depFile])).code, 0);
  equal((await h.pod(["pod", "exists", "kp-deployment-pod-0"])).code, 1);

  const down = await h.pod(["kube", "down", file]);
  equal(down.code, 0, down.stderr);
  match(down.stdout, /^Pods stopped:\n[a-f0-9]{64}\nPods removed:\n[a-f0-9]{64}\n$/);
  equal((await h.pod(["pod", "exists", "kp"])).code, 1);
  equal((await h.pod(["ps", "-a", "-q"])).stdout.trim(), "");
}

async function handWritten(h: TempPodHome, ref: string): Promise<void> {
  const hostDir = `${h.root}/hostdir`;
  await Deno.mkdir(hostDir);
  await writeAs(h, `${hostDir}/f.txt`, "from-host");
  if (h.user) await Deno.chown(hostDir, h.user.uid, h.user.gid);
  const port = freePort();
  const yaml = `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {GREETING: hi-from-cm, page.html: cm-page}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
data: {TOKEN: ${btoa("s3cret-value")}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: claim1}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: hand, labels: {app: hand}}
spec:
  initContainers:
  - name: init
    image: ${ref}
    command: [sh, -c, "echo init-ran > /claim/init.txt"]
    volumeMounts: [{name: data, mountPath: /claim}]
  containers:
  - name: app
    image: ${ref}
    command: [sh, -c]
    args: ["cat /claim/init.txt; echo $GREETING $TOKEN; cat /cfg/page.html; echo; cat /host/f.txt; echo; sleep 1000"]
    env:
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: cfg, key: GREETING}}}
    - {name: TOKEN, valueFrom: {secretKeyRef: {name: sec, key: TOKEN}}}
    ports: [{containerPort: 8080, hostPort: ${port}}]
    volumeMounts:
    - {name: data, mountPath: /claim}
    - {name: cfgvol, mountPath: /cfg}
    - {name: hp, mountPath: /host, readOnly: true}
    livenessProbe: {exec: {command: ["true"]}}
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: claim1}}
  - {name: cfgvol, configMap: {name: cfg}}
  - {name: hp, hostPath: {path: ${hostDir}, type: Directory}}
`;
  const play = await h.pod(["kube", "play", "-"], { stdin: yaml });
  equal(play.code, 0, play.stderr);
  match(play.stderr, /livenessProbe is not supported/);
  match(play.stdout, /^Pod:\n[a-f0-9]{64}\nContainers:\n[a-f0-9]{64}\n\nVolumes:\nclaim1\n/);
  const logs = await logsOf(h, "hand", /from-host/);
  for (const want of ["init-ran", "hi-from-cm s3cret-value", "cm-page", "from-host"]) {
    ok(logs.includes(want), logs);
  }
  const ins = JSON.parse((await h.pod(["pod", "inspect", "hand"])).stdout);
  deepEqual(ins.InfraConfig.PortBindings, { "8080/tcp": [{ HostIp: "", HostPort: String(port) }] });
  equal((await h.pod(["volume", "exists", "claim1"])).code, 0);
  const down = await h.pod(["kube", "down", "-"], { stdin: yaml });
  equal(down.code, 0, down.stderr);
  equal((await h.pod(["pod", "exists", "hand"])).code, 1);
}

async function badInput(h: TempPodHome, ref: string): Promise<void> {
  const cases: [string, RegExp][] = [
    ["apiVersion: v1\nkind: Pod\nmetadata: {name: x\n", /document 1, line \d+/],
    [
      `apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec: {containers: [{name: a, image: ${ref}}]}\n---\nkind: Foo\nmetadata: {name: y}\n`,
      /document 2, line 6: kind "Foo" is not supported/,
    ],
    [
      `kind: Pod\nmetadata: {name: p1}\nspec:\n  containers: [{name: a, image: ${ref}}]\n  volumes: [{name: v, hostPath: {path: "/tmp/../etc"}}]\n`,
      /must be a clean path/,
    ],
    [
      `kind: Pod\nmetadata: {name: p2}\nspec:\n  containers: [{name: a, image: ${ref}}]\n  volumes: [{name: v, hostPath: {path: relative}}]\n`,
      /absolute path/,
    ],
    [
      `kind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n---\nkind: Pod\nmetadata: {name: p3}\nspec:\n  containers: [{name: a, image: ${ref}}]\n  volumes: [{name: v, configMap: {name: c, items: [{key: k, path: ../../escape}]}}]\n`,
      /escapes the root/,
    ],
    ["- just\n- a list\n", /not a Kubernetes object/],
  ];
  for (const [yaml, want] of cases) {
    const r = await h.pod(["kube", "play", "-"], { stdin: yaml });
    equal(r.code, 125, `${yaml}: ${r.stdout} ${r.stderr}`);
    ok(isOneLineError(r.stderr), r.stderr);
    match(r.stderr, want);
  }
  equal((await h.pod(["pod", "ps", "-q"])).stdout.trim(), "", "a refused play leaves no pod behind");
}

/** As root: podman plays pod's generated YAML (throwaway store; skipped when podman cannot run here). */
async function podmanReads(h: TempPodHome, ref: string, mode: Mode, t: Deno.TestContext): Promise<void> {
  if (mode !== "root") {
    // podman's rootless store needs a user session of its own: the interop check runs as root
    await t.step({
      name: "podman kube play reads the generated YAML (skipped rootless: runs as root only)",
      ignore: true,
      fn: () => {},
    });
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "pod-test-podman-" });
  // `kube play` has no --cgroup-parent: podman makes `libpod_parent` in each hierarchy; removed after if new
  const parents = newLibpodParent();
  const podman = (args: string[]) =>
    new Deno.Command("podman", {
      args: [
        "--root",
        `${dir}/root`,
        "--runroot",
        `${dir}/run`,
        "--cgroup-manager",
        "cgroupfs",
        "--runtime",
        "runc",
        "--events-backend",
        "file",
        ...args,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output().catch(() => undefined);
  try {
    const v = await podman(["version"]);
    await t.step({
      name: "podman kube play reads the generated YAML",
      ignore: !v?.success,
      fn: async () => {
        equal((await h.pod(["pod", "create", "--name", "interop"])).code, 0);
        equal(
          (await h.pod(["create", "--pod", "interop", "--name", "c1", "-e", "A=1", ref, "sleep", "5"])).code,
          0,
        );
        const gen = await h.pod(["kube", "generate", "interop"]);
        equal(gen.code, 0, gen.stderr);
        await Deno.writeTextFile(`${dir}/k.yaml`, gen.stdout);
        const r = await podman(["kube", "play", "--start=false", "--tls-verify=false", `${dir}/k.yaml`]);
        const err = new TextDecoder().decode(r!.stderr);
        equal(r!.code, 0, err);
        const ps = await podman(["ps", "-a", "--format", "{{.Names}}"]);
        match(new TextDecoder().decode(ps!.stdout), /interop-c1/);
      },
    });
    if (!v?.success) console.log("podman interop skipped: podman cannot run here");
  } finally {
    await podman(["system", "reset", "-f"]);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    parents.remove();
  }
}

/**
 * Whether the rootless test user's Deno can load the npm `yaml` package `kube` imports (its own Deno cache:
 * the npm registry must be reachable for it, or the package cached).
 */
async function npmYamlFor(user: string): Promise<boolean> {
  const u = await lookupUser(user);
  if (!u) return false;
  const o = await new Deno.Command("setpriv", {
    args: [
      `--reuid=${u.uid}`,
      `--regid=${u.gid}`,
      "--init-groups",
      "--reset-env",
      "/usr/bin/env",
      `HOME=${u.home}`,
      `DENO_DIR=${u.home}/.cache/deno`,
      "DENO_NO_UPDATE_CHECK=1",
      Deno.execPath(),
      "eval",
      'await import("npm:yaml@2.9.1")',
    ],
    cwd: "/",
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  return !!o?.success;
}

const registry = await registryAvailable();
const rootless = registry && await rootlessAvailable() && await npmYamlFor(TEST_USER);
if (registry && await rootlessAvailable() && !rootless) {
  console.log(
    `kube (rootless) skipped: ${TEST_USER}'s Deno cannot load npm:yaml (npm registry unreachable for it)`,
  );
}
for (const mode of ["root", "rootless"] as const) {
  Deno.test({
    name: `kube generate, play, down (${mode})`,
    ignore: mode === "root" ? !registry || Deno.uid() !== 0 : !rootless,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: busyboxSuite(mode, async ({ h, img }, t) => {
      try {
        await roundTrip(h, img.ref);
        await handWritten(h, img.ref);
        await badInput(h, img.ref);
        await podmanReads(h, img.ref, mode, t);
      } finally {
        await h.pod(["pod", "rm", "-a", "-f", "-t", "0"]).catch(() => {});
      }
    }),
  });
}
