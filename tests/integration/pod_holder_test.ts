/**
 * A pod's default infra container runs a namespace holder (pods3, lib/ns/holder.ts), root and rootless: its
 * process is the host's `catatonit -P` (no Deno stage 2), in no mount namespace of its own, in its cgroup;
 * members share its hostname and find the loopback up; `exec` into it is refused in one line, `cp` from it
 * reads the infra image; `pod rm -f` ends it and no other pod's holder. An `--infra-command` infra still runs through stage 2.
 * @module
 */
import { equal, match, notEqual, ok } from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { isOneLineError, type TempPodHome } from "../helpers/pod.ts";

async function infraPid(h: TempPodHome, pod: string): Promise<{ id: string; pid: number }> {
  const ins = await h.pod(["pod", "inspect", pod, "--format", "{{.InfraContainerID}}"]);
  equal(ins.code, 0, ins.stderr);
  const id = ins.stdout.trim();
  const st = await h.pod(["inspect", id, "--format", "{{.State.Pid}}"]);
  equal(st.code, 0, st.stderr);
  const pid = Number(st.stdout.trim());
  ok(pid > 0, `infra pid: ${st.stdout}`);
  return { id, pid };
}

const catatonit = (() => {
  for (const d of ["/usr/bin", "/usr/local/bin", "/usr/libexec/podman", "/bin"]) {
    try {
      return Deno.realPathSync(`${d}/catatonit`);
    } catch { /* next */ }
  }
  return undefined;
})();
if (!catatonit) {
  console.log("pod_holder_test: the host has no catatonit (apt-get install catatonit): skipped");
  Deno.test({ name: "pod infra holder", ignore: true, fn() {} });
} else {await testRootAndRootless("pod infra holder", (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const created = await h.pod(["pod", "create", "--name", "hp", "--hostname", "holder-host"]);
      equal(created.code, 0, created.stderr);
      const member = await h.pod(["run", "-d", "--pod", "hp", img.ref, "sleep", "1000"]);
      equal(member.code, 0, member.stderr);
      const { id, pid } = await infraPid(h, "hp");

      // the host's catatonit in pause mode, not Deno; no mount namespace of its own
      equal(Deno.readLinkSync(`/proc/${pid}/exe`), catatonit!);
      equal(Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").slice(1, 2)[0], "-P");
      equal(Deno.readLinkSync(`/proc/${pid}/ns/mnt`), Deno.readLinkSync("/proc/self/ns/mnt"));
      notEqual(Deno.readLinkSync(`/proc/${pid}/ns/net`), Deno.readLinkSync("/proc/self/ns/net"));

      // in its own cgroup in every hierarchy the member has one in
      const mid = member.stdout.trim();
      const memberPid = Number((await h.pod(["inspect", mid, "--format", "{{.State.Pid}}"])).stdout.trim());
      const own = Deno.readTextFileSync(`/proc/${memberPid}/cgroup`).split("\n").filter((l) =>
        l.includes(mid)
      );
      const infraCg = Deno.readTextFileSync(`/proc/${pid}/cgroup`).split("\n");
      for (const l of own) {
        const hierarchy = l.slice(0, l.lastIndexOf(":") + 1);
        ok(
          infraCg.some((x) => x.startsWith(hierarchy) && x.includes(id)),
          `infra not in its ${hierarchy} cgroup`,
        );
      }
      if (!own.length) {
        console.log(`  (${mode}: containers get no cgroup of their own here: cgroup not checked)`);
      }

      // a member: the pod's hostname, the loopback up
      const r = await h.pod(["run", "--rm", "--pod", "hp", img.ref, "sh", "-c", "hostname; ip link show lo"]);
      equal(r.code, 0, r.stderr);
      const [host, lo] = r.stdout.split("\n");
      equal(host, "holder-host");
      match(lo, /<[^>]*\bUP\b[^>]*>/);

      // exec is refused in one line; cp reads the infra image
      const ex = await h.pod(["exec", id, "ls", "/"]);
      equal(ex.code, 125);
      ok(isOneLineError(ex.stderr), ex.stderr);
      match(ex.stderr, /infra container of a pod/);
      const cp = await h.pod(["cp", `${id}:/catatonit`, "-"]);
      equal(cp.code, 0, cp.stderr);
      ok(cp.stdout.includes("catatonit"), "cp: the infra image's /catatonit");

      // another pod's holder (also in the host's mount namespace) outlives this pod's removal
      equal((await h.pod(["pod", "create", "--name", "other"])).code, 0);
      equal((await h.pod(["pod", "start", "other"])).code, 0);
      const other = await infraPid(h, "other");
      const stateOf = (p: number) => Deno.readTextFileSync(`/proc/${p}/stat`).split(") ")[1][0];
      // pause signals every process of the container (SIGSTOP): this pod's only
      equal((await h.pod(["pod", "pause", "hp"])).code, 0);
      equal(stateOf(pid), "T");
      equal(stateOf(other.pid), "S", "pausing a pod stopped another pod's holder");
      equal((await h.pod(["pod", "unpause", "hp"])).code, 0);
      const rm = await h.pod(["pod", "rm", "-f", "-t", "0", "hp"]);
      equal(rm.code, 0, rm.stderr);
      let gone = false;
      try {
        gone = !Deno.readLinkSync(`/proc/${pid}/exe`).startsWith(catatonit!);
      } catch {
        gone = true;
      }
      ok(gone, "the holder ended with its pod");
      equal(Deno.readLinkSync(`/proc/${other.pid}/exe`), catatonit!, "another pod's holder was killed");
      equal((await h.pod(["pod", "rm", "-f", "-t", "0", "other"])).code, 0);

      // a custom infra command runs through stage 2 (a root and a mount namespace of its own)
      const custom = await h.pod(["pod", "create", "--name", "cp1", "--infra-command", "/catatonit -P"]);
      equal(custom.code, 0, custom.stderr);
      const started = await h.pod(["pod", "start", "cp1"]);
      equal(started.code, 0, started.stderr);
      const c = await infraPid(h, "cp1");
      notEqual(Deno.readLinkSync(`/proc/${c.pid}/ns/mnt`), Deno.readLinkSync("/proc/self/ns/mnt"));
      equal((await h.pod(["pod", "rm", "-f", "-t", "0", "cp1"])).code, 0);
    }));}
