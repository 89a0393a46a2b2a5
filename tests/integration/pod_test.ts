/**
 * Pods (`pod pod …`, `--pod`), root and rootless: two members talk over 127.0.0.1 in the pod's shared
 * network namespace and share its hostname; ps --pod / --filter pod=; pod inspect/ps shapes; stop/start/
 * restart/kill/pause; the infra cannot be removed alone; `pod rm -f` removes the members; `--pod new:`;
 * `--infra=false`.
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { isOneLineError, type TempPodHome } from "../helpers/pod.ts";

/** A client in the pod that fetches the member's page on 127.0.0.1 (retrying while the server comes up). */
async function fetchInPod(h: TempPodHome, ref: string, pod: string): Promise<string[]> {
  const r = await h.pod([
    "run",
    "--rm",
    "--pod",
    pod,
    ref,
    "sh",
    "-c",
    "for i in $(seq 100); do wget -q -O - http://127.0.0.1:8080/i.html && break; sleep 0.1; done; hostname",
  ]);
  equal(r.code, 0, r.stderr);
  return r.stdout.trim().split("\n");
}

const SERVER = "echo hello-pod > /tmp/i.html; exec httpd -f -p 127.0.0.1:8080 -h /tmp";

await testRootAndRootless("pods", (mode) =>
  busyboxSuite(mode, async ({ h, img }) => {
    try {
      const created = await h.pod(["pod", "create", "--name", "p1", "--label", "team=a"]);
      equal(created.code, 0, created.stderr);
      const podId = created.stdout.trim();
      match(podId, /^[a-f0-9]{64}$/);
      const ps0 = await h.pod(["pod", "ps", "--format", "{{.Name}} {{.Status}} {{.NumberOfContainers}}"]);
      equal(ps0.stdout.trim(), "p1 Created 1");
      equal((await h.pod(["pod", "exists", "p1"])).code, 0);
      equal((await h.pod(["pod", "exists", "nosuch"])).code, 1);

      const web = await h.pod(["run", "-d", "--pod", "p1", "--name", "web", img.ref, "sh", "-c", SERVER]);
      equal(web.code, 0, web.stderr);
      deepEqual(await fetchInPod(h, img.ref, "p1"), ["hello-pod", "p1"]);

      // a member's own namespace flag for a shared namespace is refused
      const clash = await h.pod(["run", "--rm", "--pod", "p1", "--network", "host", img.ref, "true"]);
      equal(clash.code, 125);
      ok(isOneLineError(clash.stderr), clash.stderr);

      // ps --pod columns and --filter pod=
      const psPod = await h.pod(["ps", "--pod"]);
      equal(psPod.code, 0, psPod.stderr);
      match(psPod.stdout.split("\n")[0], /POD ID\s+PODNAME$/);
      match(psPod.stdout, new RegExp(`web\\s+${podId.slice(0, 12)}\\s+p1`));
      const filtered = await h.pod(["ps", "-a", "--filter", "pod=p1", "--format", "{{.Names}} {{.PodName}}"]);
      deepEqual(filtered.stdout.trim().split("\n").sort(), [`${podId.slice(0, 12)}-infra p1`, "web p1"]);

      // inspect
      const ins = JSON.parse((await h.pod(["pod", "inspect", "p1"])).stdout);
      equal(ins.Id, podId);
      equal(ins.Name, "p1");
      equal(ins.State, "Running");
      equal(ins.NumContainers, 2);
      deepEqual(ins.Labels, { team: "a" });
      deepEqual(ins.SharedNamespaces, ["net", "uts", "ipc"]);
      const infraId = ins.InfraContainerID as string;
      const cins = JSON.parse((await h.pod(["inspect", "web"])).stdout)[0];
      equal(cins.HostConfig.NetworkMode, `container:${infraId}`);
      equal(cins.Pod, podId);
      equal(JSON.parse((await h.pod(["inspect", infraId])).stdout)[0].IsInfra, true);

      // top lists the members' processes (and catatonit)
      const top = await h.pod(["pod", "top", "p1"]);
      equal(top.code, 0, top.stderr);
      match(top.stdout, /httpd/);
      match(top.stdout, /catatonit/);

      // the infra container cannot be removed alone; a running pod not without -f
      const rmInfra = await h.pod(["rm", "-f", infraId]);
      equal(rmInfra.code, 125);
      match(rmInfra.stderr, /infra container of pod/);
      const rmRunning = await h.pod(["pod", "rm", "p1"]);
      equal(rmRunning.code, 125);
      ok(isOneLineError(rmRunning.stderr), rmRunning.stderr);

      // stop / start: members come back and serve again
      const stop = await h.pod(["pod", "stop", "-t", "0", "p1"]);
      equal(stop.code, 0, stop.stderr);
      equal(stop.stdout.trim(), podId);
      const st = await h.pod(["pod", "ps", "--format", "{{.Status}}", "--filter", "name=p1"]);
      equal(st.stdout.trim(), "Exited");
      const started = await h.pod(["pod", "start", "p1"]);
      equal(started.code, 0, started.stderr);
      deepEqual(await fetchInPod(h, img.ref, "p1"), ["hello-pod", "p1"]);
      const restarted = await h.pod(["pod", "restart", "p1"]);
      equal(restarted.code, 0, restarted.stderr);
      deepEqual(await fetchInPod(h, img.ref, "p1"), ["hello-pod", "p1"]);

      // pause / unpause / kill
      equal((await h.pod(["pod", "pause", "p1"])).code, 0);
      equal((await h.pod(["pod", "ps", "--format", "{{.Status}}"])).stdout.trim(), "Paused");
      equal((await h.pod(["pod", "unpause", "p1"])).code, 0);
      equal((await h.pod(["pod", "kill", "p1"])).code, 0);
      const killed = JSON.parse((await h.pod(["pod", "inspect", "p1"])).stdout);
      ok(["Exited", "Stopped"].includes(killed.State), killed.State);

      // pod rm -f of a running pod removes its members
      equal((await h.pod(["pod", "start", "p1"])).code, 0);
      const rm = await h.pod(["pod", "rm", "-f", "-t", "0", "p1"]);
      equal(rm.code, 0, rm.stderr);
      equal(rm.stdout.trim(), podId);
      equal((await h.pod(["ps", "-a", "-q"])).stdout.trim(), "");
      equal((await h.pod(["pod", "exists", "p1"])).code, 1);

      // --pod new:NAME
      const n = await h.pod(["run", "-d", "--pod", "new:p2", "--name", "n1", img.ref, "sleep", "1000"]);
      equal(n.code, 0, n.stderr);
      equal((await h.pod(["pod", "ps", "--format", "{{.Name}} {{.Status}}"])).stdout.trim(), "p2 Running");
      const host = await h.pod(["exec", "n1", "hostname"]);
      equal(host.stdout.trim(), "p2");

      // --infra=false: members only grouped, nothing shared
      const bare = await h.pod(["pod", "create", "--infra=false", "--name", "p3"]);
      equal(bare.code, 0, bare.stderr);
      const b = await h.pod(["run", "--rm", "--pod", "p3", img.ref, "hostname"]);
      equal(b.code, 0, b.stderr);
      ok(b.stdout.trim() !== "p3");
      equal(JSON.parse((await h.pod(["pod", "inspect", "p3"])).stdout).CreateInfra, false);

      // bad input: one line, 125
      for (
        const args of [
          ["pod", "create", "--share", "bogus"],
          ["pod", "create", "--exit-policy", "sometimes"],
          ["pod", "rm", "nosuch"],
          ["run", "--rm", "--pod", "nosuch", img.ref, "true"],
        ]
      ) {
        const r = await h.pod(args);
        equal(r.code, 125, `${args.join(" ")}: ${r.stderr}`);
        ok(isOneLineError(r.stderr), r.stderr);
      }

      // rm -a removes pods with their containers (as podman's)
      const all = await h.pod(["rm", "-a", "-f", "-t", "0"]);
      equal(all.code, 0, all.stderr);
      equal((await h.pod(["pod", "ps", "-q"])).stdout.trim(), "");
    } finally {
      await h.pod(["pod", "rm", "-a", "-f", "-t", "0"]).catch(() => {});
    }
  }));

await testRootAndRootless(
  "pod exit policy, logs and a shared pid namespace",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      try {
        equal((await h.pod(["pod", "create", "--name", "ep", "--exit-policy", "stop"])).code, 0);
        const m = await h.pod([
          "run",
          "-d",
          "--pod",
          "ep",
          "--name",
          "once",
          img.ref,
          "sh",
          "-c",
          "echo bye",
        ]);
        equal(m.code, 0, m.stderr);
        equal((await h.pod(["wait", "once"])).stdout.trim(), "0");
        // the last member exited: the pod's infra is stopped (applied when the pod is read)
        equal((await h.pod(["pod", "ps", "--format", "{{.Status}}"])).stdout.trim(), "Exited");
        const logs = await h.pod(["pod", "logs", "ep"]);
        equal(logs.code, 0, logs.stderr);
        match(logs.stdout, /^[a-f0-9]{12} bye\n$/);
        const named = await h.pod(["pod", "logs", "--names", "-c", "once", "ep"]);
        equal(named.stdout, "once bye\n");

        equal((await h.pod(["pod", "create", "--name", "sp", "--share", "net,pid"])).code, 0);
        equal((await h.pod(["run", "-d", "--pod", "sp", img.ref, "sleep", "1000"])).code, 0);
        const ps = await h.pod(["run", "--rm", "--pod", "sp", img.ref, "ps", "-o", "args"]);
        equal(ps.code, 0, ps.stderr);
        match(ps.stdout, /sleep 1000/);
        match(ps.stdout, /catatonit -P/);
        equal((await h.pod(["pod", "rm", "-f", "-t", "0", "sp"])).code, 0);

        // a pod on the host's network: members use the host's (rootless too: not by joining the infra's)
        equal((await h.pod(["pod", "create", "--name", "hn", "--network", "host"])).code, 0);
        // the same namespace (its inode), not the same interface list: other tests add and remove theirs meanwhile
        const net = await h.pod(["run", "--rm", "--pod", "hn", img.ref, "readlink", "/proc/self/ns/net"]);
        equal(net.code, 0, net.stderr);
        equal(net.stdout.trim(), Deno.readLinkSync("/proc/self/ns/net"));
      } finally {
        await h.pod(["pod", "rm", "-a", "-f", "-t", "0"]).catch(() => {});
      }
    }),
);
