/**
 * Pure parts of scope "pods": `--share` parsing, podman's pod status, port bindings, Kubernetes names and
 * ports, hostPath checks, and the `nsenter … unshare` line of a container that joins namespaces.
 * @module
 */
import { deepEqual, equal, throws } from "node:assert/strict";
import { parseShare, podStatus } from "../../lib/container/pod/pods.ts";
import { portBindings } from "../../lib/cli/views/pod.ts";
import { dnsLabel, portsOf } from "../../lib/container/kube/generate.ts";
import { checkHostPath } from "../../lib/container/kube/play_volumes.ts";
import { joinPrefix, unshareCommand } from "../../lib/ns/unshare.ts";
import type { ContainerRecord } from "../../lib/store/containers.ts";

Deno.test("parseShare: podman's default, lists, none, cgroup ignored, bad kinds refused", () => {
  deepEqual(parseShare(undefined), ["net", "uts", "ipc"]);
  deepEqual(parseShare("net,pid"), ["net", "pid"]);
  deepEqual(parseShare("+ipc,ipc"), ["ipc"]);
  deepEqual(parseShare("none"), []);
  deepEqual(parseShare("cgroup,net"), ["net"]);
  throws(() => parseShare("user"), /invalid kernel namespace to share: user/);
});

Deno.test("podStatus: Created, Running, Degraded, Paused, Exited, Stopped", () => {
  const c = (...s: string[]) => s.map((status) => ({ state: { status } }) as unknown as ContainerRecord);
  equal(podStatus([]), "Created");
  equal(podStatus(c("created", "created")), "Created");
  equal(podStatus(c("running", "running")), "Running");
  equal(podStatus(c("running", "exited")), "Degraded");
  equal(podStatus(c("paused", "paused")), "Paused");
  equal(podStatus(c("exited", "exited")), "Exited");
  equal(podStatus(c("exited", "created")), "Stopped");
});

Deno.test("portBindings and portsOf read -p as podman does", () => {
  deepEqual(portBindings(["8080:80", "127.0.0.1:53:53/udp", "9000"]), {
    "80/tcp": [{ HostIp: "", HostPort: "8080" }],
    "53/udp": [{ HostIp: "127.0.0.1", HostPort: "53" }],
    "9000/tcp": [{ HostIp: "", HostPort: "" }],
  });
  deepEqual(portsOf(["8080:80", "127.0.0.1:53:53/udp", "bad"]), [
    { containerPort: 80, hostPort: 8080 },
    { containerPort: 53, hostPort: 53, hostIP: "127.0.0.1", protocol: "UDP" },
  ]);
});

Deno.test("dnsLabel: lower case, [a-z0-9-], at most 63, never empty", () => {
  equal(dnsLabel("My_Pod.1"), "my-pod-1");
  equal(dnsLabel("-x-"), "x");
  equal(dnsLabel("___"), "x");
  equal(dnsLabel("a".repeat(80)).length, 63);
});

Deno.test("checkHostPath: absolute and clean only", () => {
  equal(checkHostPath("/srv/data/", "v"), "/srv/data");
  equal(checkHostPath("/", "v"), "/");
  for (const bad of ["relative", "/a/../etc", "/a/./b", "//etc", "/a//b", "/a\0b", 3]) {
    throws(() => checkHostPath(bad, "v"));
  }
});

Deno.test("joinPrefix / unshareCommand: nsenter enters the user namespace first, unshare makes the rest", () => {
  deepEqual(joinPrefix({}), []);
  deepEqual(joinPrefix({ net: "/proc/9/ns/net", user: "/proc/9/ns/user" }), [
    "nsenter",
    "--user=/proc/9/ns/user",
    "--net=/proc/9/ns/net",
    "--no-fork",
    "--",
  ]);
  const ns = { user: true, pid: true, ipc: false, uts: false, net: false };
  const cmd = unshareCommand({ namespaces: ns, join: { user: "/u", net: "/n", ipc: "/i", uts: "/t" } }, [
    "stage2",
  ]);
  equal(cmd.slice(0, 7).join(" "), "nsenter --user=/u --net=/n --ipc=/i --uts=/t --no-fork --");
  const unshare = cmd.slice(7, cmd.indexOf("--", 7));
  deepEqual(
    unshare,
    ["unshare", "--mount", "--pid"],
    "no --user: the joined user namespace is entered, not made",
  );
  // a joined pid namespace: no --pid, but stage 2 is still forked (by sh) into it
  const pid = unshareCommand({
    namespaces: { user: false, pid: false, ipc: true, uts: true, net: true },
    join: { pid: "/p" },
  }, ["stage2"]);
  deepEqual(pid.slice(0, 4), ["nsenter", "--pid=/p", "--no-fork", "--"]);
  equal(pid.includes("--pid"), false);
  equal(pid.some((a) => a.includes("& wait")), true);
});
