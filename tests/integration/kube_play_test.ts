/**
 * `kube play` of several pods at once (kube9), root and rootless: the records are made in the YAML's order
 * while the starts overlap, so the summary, the ids, the `Created` times and `kube generate`'s container order
 * follow the YAML whichever start finishes first; init containers run one after the other and before the app
 * containers; `--replace` and `kube down` take every pod of the file; a pod that fails is removed and the
 * first failure in the YAML's order is the one said. The YAML stays in the plain subset (no npm package
 * needed by pod, so the rootless case runs wherever the rootless set-up does).
 * @module
 */
import { deepEqual, equal, match, notEqual, ok } from "node:assert/strict";
// the generated YAML read back as kube_test.ts reads it (a test dependency: pod's CLI needs no package here)
// deno-lint-ignore no-import-prefix
import YAML from "npm:yaml@2.9.1";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { isOneLineError, type TempPodHome } from "../helpers/pod.ts";
import { parsePlainYaml } from "../../lib/container/kube/yaml_plain.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A command that waits until stopped (and stops at once on SIGTERM: `kube down` waits for it). */
const WAIT = `trap 'exit 0' TERM; sleep 1000 & wait`;

/** A container entry of a `containers:` list indented by `indent` (block style: the plain subset). */
function ctr(indent: string, name: string, ref: string, command: string, claim = false): string {
  return [
    `- name: ${name}`,
    `  image: ${ref}`,
    `  command: ${command}`,
    ...(claim ? ["  volumeMounts:", "  - name: data", "    mountPath: /claim"] : []),
  ].map((l) => `${indent}${l}\n`).join("");
}

const sh = (script: string) => `[sh, -c, "${script}"]`;

function orderedYaml(ref: string): string {
  return `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: kube9claim}
---
apiVersion: v1
kind: Pod
metadata: {name: first}
spec:
  initContainers:
${ctr("  ", "i1", ref, sh("sleep 1; echo one >> /claim/order"), true)}${
    ctr("  ", "i2", ref, sh("echo two >> /claim/order"), true)
  }  containers:
${ctr("  ", "a", ref, sh(`cat /claim/order; echo a-up; ${WAIT}`), true)}${ctr("  ", "b", ref, sh(WAIT))}${
    ctr("  ", "c", ref, sh(WAIT))
  }  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: kube9claim
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: second}
spec:
  replicas: 1
  template:
    metadata:
      labels: {app: second}
    spec:
      containers:
${ctr("      ", "x", ref, sh(WAIT))}${ctr("      ", "y", ref, sh(WAIT))}`;
}

/** The ids of `kube play`'s summary: per pod its id and its containers' ids. */
function summary(stdout: string): { pod: string; containers: string[] }[] {
  const out: { pod: string; containers: string[] }[] = [];
  for (const m of stdout.matchAll(/Pod:\n([a-f0-9]{64})\nContainers:\n((?:[a-f0-9]{64}\n)*)\n/g)) {
    out.push({ pod: m[1], containers: m[2].trim().split("\n").filter((l) => l) });
  }
  return out;
}

/** A `Created` time (RFC 3339 with nanoseconds) as nanoseconds since the epoch. */
function nanos(created: string): bigint {
  const m = created.match(/^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/);
  ok(m, `unexpected Created: ${created}`);
  const sec = BigInt(Date.parse(`${m[1]}${m[3]}`) / 1000);
  return sec * 1_000_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

async function inspectJson(h: TempPodHome, args: string[]): Promise<Record<string, unknown>[]> {
  const r = await h.pod(args);
  equal(r.code, 0, r.stderr);
  const v = JSON.parse(r.stdout);
  return Array.isArray(v) ? v : [v];
}

/** Waits until `logs CTR` shows `want`. */
async function logsOf(h: TempPodHome, ctr: string, want: RegExp): Promise<string> {
  let text = "";
  for (let i = 0; i < 100; i++) {
    text = (await h.pod(["logs", ctr])).stdout;
    if (want.test(text)) return text;
    await sleep(100);
  }
  return text;
}

async function orderedPlay(h: TempPodHome, ref: string): Promise<void> {
  const file = `${h.root}/ordered.yaml`;
  const yaml = orderedYaml(ref);
  ok(parsePlainYaml(yaml), "the YAML is in the plain subset");
  await Deno.writeTextFile(file, yaml);
  if (h.user) await Deno.chown(file, h.user.uid, h.user.gid);
  const play = await h.pod(["kube", "play", file]);
  equal(play.code, 0, play.stderr);
  const pods = summary(play.stdout);
  equal(
    play.stdout.replace(/[a-f0-9]{64}/g, "ID"),
    [
      "Pod:\nID\nContainers:\nID\nID\nID\n\n",
      "Pod:\nID\nContainers:\nID\nID\n\n",
      "Volumes:\nkube9claim\n\n",
    ].join(""),
  );

  // the summary's order is the YAML's: pods, then each pod's containers
  const podDocs = await inspectJson(h, ["pod", "inspect", pods[0].pod, pods[1].pod]);
  deepEqual(podDocs.map((p) => p.Name), ["first", "second-pod-0"]);
  const ids = pods.flatMap((p) => p.containers);
  const ctrs = await inspectJson(h, ["inspect", ...ids]);
  deepEqual(ctrs.map((c) => c.Name), ["first-a", "first-b", "first-c", "second-pod-0-x", "second-pod-0-y"]);
  deepEqual(ctrs.map((c) => c.Pod), [pods[0].pod, pods[0].pod, pods[0].pod, pods[1].pod, pods[1].pod]);
  // … and so are the Created times (records made one after the other, the starts overlapping)
  const created = [
    nanos(String(podDocs[0].Created)),
    ...ctrs.slice(0, 3).map((c) => nanos(String(c.Created))),
    nanos(String(podDocs[1].Created)),
    ...ctrs.slice(3).map((c) => nanos(String(c.Created))),
  ];
  for (let i = 1; i < created.length; i++) {
    ok(created[i - 1] < created[i], `Created out of order: ${created}`);
  }
  for (const c of ctrs) equal((c.State as { Status: string }).Status, "running", `${c.Name} runs`);
  // the pod's own views list them in that order too
  const members = (podDocs[0].Containers as { Name: string }[]).map((c) => c.Name).filter((n) =>
    n.startsWith("first-")
  );
  deepEqual(members, ["first-a", "first-b", "first-c"]);
  const gen = await h.pod(["kube", "generate", "first"]);
  if (gen.code !== 0 && h.user && /loading the YAML reader/.test(gen.stderr)) {
    // kube generate writes through the npm package, which the rootless user's Deno may not reach
    console.log(`kube generate's order not checked (rootless): ${h.user.name}'s Deno cannot load npm:yaml`);
  } else {
    equal(gen.code, 0, gen.stderr);
    const genPod = YAML.parseAllDocuments(gen.stdout).map((d) => d.toJS()).find((d) => d?.kind === "Pod");
    deepEqual(genPod.spec.containers.map((c: { name: string }) => c.name), ["a", "b", "c"]);
  }

  // the init containers ran one after the other (i1 sleeps before writing), the app containers after both
  const logs = await logsOf(h, "first-a", /a-up/);
  equal(logs, "one\ntwo\na-up\n");
  equal(
    (await h.pod(["ps", "-a", "-q", "--filter", "name=first-i"])).stdout.trim(),
    "",
    "init containers gone",
  );

  // --replace: every pod of the file again, new ids, same order
  const again = await h.pod(["kube", "play", "--replace", file]);
  equal(again.code, 0, again.stderr);
  const pods2 = summary(again.stdout);
  equal(pods2.length, 2);
  notEqual(pods2[0].pod, pods[0].pod);
  deepEqual(
    (await inspectJson(h, ["inspect", ...pods2.flatMap((p) => p.containers)])).map((c) => c.Name),
    ["first-a", "first-b", "first-c", "second-pod-0-x", "second-pod-0-y"],
  );
  equal((await h.pod(["pod", "ps", "-q"])).stdout.trim().split("\n").length, 2);

  // kube down: every pod at once, said in the YAML's order
  const down = await h.pod(["kube", "down", file]);
  equal(down.code, 0, down.stderr);
  const [a, b] = pods2.map((p) => p.pod);
  equal(down.stdout, `Pods stopped:\n${a}\n${b}\nPods removed:\n${a}\n${b}\n`);
  equal((await h.pod(["pod", "ps", "-q"])).stdout.trim(), "");
  equal((await h.pod(["ps", "-a", "-q"])).stdout.trim(), "");
}

async function failingPlay(h: TempPodHome, ref: string): Promise<void> {
  const c = (name: string, command: string) => ctr("  ", name, ref, command);
  const pod = (name: string, body: string) =>
    `---\napiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n${body}`;
  const yaml = [
    pod("fine", `  containers:\n${c("a", sh(WAIT))}`),
    pod("badinit", `  initContainers:\n${c("i", sh("sleep 1; exit 3"))}  containers:\n${c("a", sh(WAIT))}`),
    pod("badstart", `  containers:\n${c("a", sh(WAIT))}${c("b", "[/no/such/command]")}`),
  ].join("");
  ok(parsePlainYaml(yaml), "the YAML is in the plain subset");
  const play = await h.pod(["kube", "play", "-"], { stdin: yaml });
  notEqual(play.code, 0, play.stdout);
  ok(isOneLineError(play.stderr), play.stderr);
  // badstart fails first (badinit's init sleeps): the error said is the first in the YAML's order
  match(play.stderr, /document 2, line \d+: init container i exited with code 3/);
  equal(play.stdout, "");
  equal((await h.pod(["pod", "exists", "fine"])).code, 0, "a pod that started stays, as podman leaves it");
  equal((await h.pod(["pod", "exists", "badinit"])).code, 1);
  equal((await h.pod(["pod", "exists", "badstart"])).code, 1);
  const names = (await h.pod(["ps", "-a", "--format", "{{.Names}}"])).stdout.trim().split("\n");
  deepEqual(names.filter((n) => n.startsWith("bad")), [], names.join(","));
  const down = await h.pod(["kube", "down", "-"], { stdin: yaml });
  equal(down.code, 0, down.stderr);
  equal((await h.pod(["pod", "exists", "fine"])).code, 1);
}

await testRootAndRootless(
  "kube play: several pods at once, in the YAML's order",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }, t) => {
      try {
        await t.step(
          "records in the YAML's order, init containers in turn, --replace, down",
          () => orderedPlay(h, img.ref),
        );
        await t.step(
          "a failing pod is removed, the first failure in the YAML's order said",
          () => failingPlay(h, img.ref),
        );
      } finally {
        await h.pod(["pod", "rm", "-a", "-f", "-t", "0"]).catch(() => {});
      }
    }),
);
