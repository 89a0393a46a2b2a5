/**
 * Resource limits through cgroups (issue 13). Root enforces them: a process allocating past `--memory 20m` is
 * OOM-killed (137, `State.OOMKilled`), `--pids-limit 5` bounds a fork loop, `--cpus 0.5` is the CFS quota,
 * `update` changes a running container's memory limit, `stats --no-stream` (table and JSON), bad values are
 * one line with 125, and every container's cgroup is gone after it ends / is removed. Each root test puts its
 * cgroups under a parent of its own (`--cgroup-parent /pod-test-<random>`), removed at the end. Rootless on a
 * host without a delegated cgroup v2 subtree: podman's warning, the limits recorded, `stats` refused.
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode } from "../helpers/modes.ts";
import { registryAvailable } from "../helpers/registry.ts";
import { rootlessAvailable } from "../helpers/rootless.ts";
import type { TempPodHome } from "../helpers/pod.ts";
import { cgroupLayout } from "../../lib/ns/cgroup.ts";

const layout = cgroupLayout();

/** The directory of a controller's hierarchy (v1), or the v2 root. */
function hierarchy(controller: string): string | undefined {
  if (!layout) return undefined;
  return layout.version === 2 ? layout.root : layout.mounts[controller];
}

/** Whether root can make cgroups here (a probe dir made and removed in the memory hierarchy). */
function cgroupsWritable(): boolean {
  const base = hierarchy("memory");
  if (!base || Deno.uid() !== 0) return false;
  const probe = `${base}/pod-probe-${crypto.randomUUID().slice(0, 8)}`;
  try {
    Deno.mkdirSync(probe);
    Deno.removeSync(probe);
    return true;
  } catch {
    return false;
  }
}

const writable = cgroupsWritable();
if (Deno.uid() === 0 && !writable) {
  console.log("cgroups_test (root): no writable cgroup hierarchy (memory controller): root tests skipped");
}

/** A cgroup parent of this test's own, and its cleanup (the parent removed in every hierarchy). */
function testParent(): { parent: string; dir: (ctrl: string, id: string) => string; remove: () => void } {
  const parent = `/pod-test-${crypto.randomUUID().slice(0, 8)}`;
  return {
    parent,
    dir: (ctrl, id) => `${hierarchy(ctrl)}${parent}/libpod-${id}`,
    remove: () => {
      const roots = layout?.version === 2 ? [layout.root] : Object.values(layout?.mounts ?? {});
      for (const r of new Set(roots)) {
        try {
          Deno.removeSync(`${r}${parent}`);
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
      }
    },
  };
}

const exists = (p: string) => {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
};
const read = (p: string) => Deno.readTextFileSync(p).trim();

async function inspect(h: TempPodHome, name: string, field: string): Promise<string> {
  const r = await h.pod(["inspect", "--format", `{{${field}}}`, name]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** Allocates ~60 MiB: `tail` keeps the whole line (no newline in /dev/zero) in memory. */
const ALLOC = ["sh", "-c", "head -c 60m /dev/zero | tail > /dev/null"];

function rootSuite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    const p = testParent();
    const cg = ["--cgroup-parent", p.parent];
    try {
      await t.step("--memory 20m: the allocation is OOM-killed, 137, OOMKilled", async () => {
        const free = await h.pod(["run", "--rm", ...cg, img.ref, ...ALLOC]);
        assert.equal(free.code, 0, `without a limit the allocation succeeds: ${free.stderr}`);
        const r = await h.pod(["run", "--name", "oom", ...cg, "--memory", "20m", img.ref, ...ALLOC]);
        assert.equal(r.code, 137, r.stderr);
        assert.equal(await inspect(h, "oom", ".State.OOMKilled"), "true");
        assert.equal(await inspect(h, "oom", ".State.ExitCode"), "137");
        assert.equal(await inspect(h, "oom", ".HostConfig.Memory"), String(20 * 1024 * 1024));
        assert.equal(await inspect(h, "oom", ".HostConfig.MemorySwap"), String(40 * 1024 * 1024));
        const id = await inspect(h, "oom", ".Id");
        assert.ok(!exists(p.dir("memory", id)), "the cgroup of an ended foreground container is removed");
        // detached: the supervisor records the OOM kill and removes the cgroup
        const d = await h.pod(["run", "-d", "--name", "oomd", ...cg, "--memory", "20m", img.ref, ...ALLOC]);
        assert.equal(d.code, 0, d.stderr);
        assert.equal((await h.pod(["wait", "oomd"])).stdout.trim(), "137");
        assert.equal(await inspect(h, "oomd", ".State.OOMKilled"), "true");
        const ok = await h.pod(["run", "--name", "fine", ...cg, "--memory", "20m", img.ref, "true"]);
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(await inspect(h, "fine", ".State.OOMKilled"), "false");
      });

      await t.step("--pids-limit 5 bounds a fork loop", async () => {
        const loop = [
          "sh",
          "-c",
          "n=0; while [ $n -lt 20 ]; do sleep 60 & n=$((n+1)); done; echo all-forked",
        ];
        const r = await h.pod(["run", "--rm", ...cg, "--pids-limit", "5", img.ref, ...loop]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /can't fork/);
        assert.doesNotMatch(r.stdout, /all-forked/);
        const wide = await h.pod(["run", "--rm", ...cg, "--pids-limit", "100", img.ref, ...loop]);
        assert.equal(wide.code, 0, wide.stderr);
        assert.equal(wide.stdout, "all-forked\n");
        const id = (await h.pod(["run", "-d", ...cg, "--pids-limit", "5", img.ref, "sleep", "60"])).stdout
          .trim();
        assert.equal(read(`${p.dir("pids", id)}/pids.max`), "5");
        assert.equal(await inspect(h, id, ".HostConfig.PidsLimit"), "5");
        // exec'd processes join the container's cgroup: they count against its limit too
        const quiet =
          "n=0; while [ $n -lt 20 ]; do sleep 60 >/dev/null 2>&1 & n=$((n+1)); done; echo all-forked";
        const e = await h.pod(["exec", id, "sh", "-c", quiet]); // the sleeps must not hold the output pipes
        assert.notEqual(e.code, 0);
        assert.match(e.stderr, /can't fork/);
        const own = await h.pod(["exec", id, "cat", "/proc/self/cgroup"]);
        assert.match(own.stdout, new RegExp(`pids:${p.parent}/libpod-${id}\n`));
        assert.equal((await h.pod(["rm", "-f", "-t", "0", id])).code, 0);
        assert.ok(!exists(p.dir("pids", id)), "rm removes the cgroup");
      });

      await t.step("--cpus 0.5 is a CFS quota of 50000 per 100000", async () => {
        const r = await h.pod(["run", "-d", "--name", "cpu", ...cg, "--cpus", "0.5", img.ref, "sleep", "60"]);
        assert.equal(r.code, 0, r.stderr);
        const id = r.stdout.trim();
        if (layout?.version === 2) assert.equal(read(`${p.dir("cpu", id)}/cpu.max`), "50000 100000");
        else {
          assert.equal(read(`${p.dir("cpu", id)}/cpu.cfs_quota_us`), "50000");
          assert.equal(read(`${p.dir("cpu", id)}/cpu.cfs_period_us`), "100000");
        }
        assert.equal(await inspect(h, "cpu", ".HostConfig.NanoCpus"), "500000000");
        assert.equal(await inspect(h, "cpu", ".HostConfig.CpuQuota"), "50000");
        // the container's process is in it (pids of every hierarchy's cgroup.procs)
        const pid = await inspect(h, "cpu", ".State.Pid");
        assert.ok(read(`${p.dir("cpu", id)}/cgroup.procs`).split("\n").includes(pid));
        assert.ok(read(`${p.dir("memory", id)}/cgroup.procs`).split("\n").includes(pid));
        assert.equal((await h.pod(["rm", "-f", "-t", "0", "cpu"])).code, 0);
        for (const c of ["cpu", "memory", "pids"]) assert.ok(!exists(p.dir(c, id)), `${c} cgroup removed`);
      });

      await t.step("update changes a running container's memory limit", async () => {
        const r = await h.pod([
          "run",
          "-d",
          "--name",
          "up",
          ...cg,
          "--memory",
          "20m",
          img.ref,
          "sleep",
          "60",
        ]);
        assert.equal(r.code, 0, r.stderr);
        const id = r.stdout.trim();
        const file = layout?.version === 2 ? "memory.max" : "memory.limit_in_bytes";
        assert.equal(read(`${p.dir("memory", id)}/${file}`), String(20 * 1024 * 1024));
        const u = await h.pod(["update", "--memory", "64m", "--pids-limit", "77", "up"]);
        assert.equal(u.code, 0, u.stderr);
        assert.equal(read(`${p.dir("memory", id)}/${file}`), String(64 * 1024 * 1024));
        assert.equal(read(`${p.dir("pids", id)}/pids.max`), "77");
        assert.equal(await inspect(h, "up", ".HostConfig.Memory"), String(64 * 1024 * 1024));
        const down = await h.pod(["update", "--memory", "10m", "up"]);
        assert.equal(down.code, 0, down.stderr);
        assert.equal(read(`${p.dir("memory", id)}/${file}`), String(10 * 1024 * 1024));
        const other = await h.pod(["update", "-e", "A=1", "up"]);
        assert.equal(other.code, 125);
        assert.match(other.stderr, /container state improper/);
      });

      await t.step("stats --no-stream: podman's columns, JSON, templates", async () => {
        const s = await h.pod(["stats", "--no-stream"]);
        assert.equal(s.code, 0, s.stderr);
        const lines = s.stdout.trimEnd().split("\n");
        assert.match(
          lines[0],
          /^ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET IO\s+BLOCK IO\s+PIDS\s+CPU TIME\s+AVG CPU %$/,
        );
        const row = lines.find((l) => / up /.test(` ${l} `));
        assert.ok(row, s.stdout);
        assert.match(
          row,
          /^[0-9a-f]{12}\s+up\s+\d+\.\d\d%\s+\S+ \/ 10\.49MB\s+\d+\.\d\d%\s+\S+ \/ \S+\s+\S+ \/ \S+\s+1\s/,
        );
        const j = await h.pod(["stats", "--no-stream", "--format", "json", "up"]);
        assert.equal(j.code, 0, j.stderr);
        const [o] = JSON.parse(j.stdout);
        assert.deepEqual(Object.keys(o), [
          "id",
          "name",
          "cpu_time",
          "cpu_percent",
          "avg_cpu",
          "mem_usage",
          "mem_percent",
          "net_io",
          "block_io",
          "pids",
        ]);
        assert.equal(o.name, "up");
        assert.equal(o.pids, "1");
        assert.match(o.mem_usage, / \/ 10\.49MB$/);
        const f = await h.pod(["stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}} {{.MemPerc}}", "up"]);
        assert.match(f.stdout, /^up 1 \d+\.\d\d%\n$/);
        const none = await h.pod(["stats", "--no-stream", "nosuch"]);
        assert.equal(none.code, 125);
        assert.equal((await h.pod(["rm", "-f", "-t", "0", "up"])).code, 0);
      });

      await t.step("bad values: one line, 125", async () => {
        const cases: [string[], RegExp][] = [
          [["--memory", "abc"], /^Error: invalid value for memory: invalid size: 'abc'\n$/],
          [
            ["--cpus", "x"],
            /^Error: invalid argument "x" for "--cpus" flag: .*invalid syntax\nSee 'pod run --help'\n$/,
          ],
          [["--pids-limit", "many"], /^Error: invalid argument "many" for "--pids-limit" flag/],
          [["--memory", "20m", "--memory-swap", "10m"], /^Error: minimum memoryswap limit should be larger/],
          [
            ["--cpus", "1", "--cpu-quota", "20000"],
            /^Error: --cpu-quota and --cpus cannot be set together\n$/,
          ],
          [["--cpu-period", "10"], /^Error: CPU cfs period cannot be less than 1ms/],
          [["--cpuset-cpus", "999"], /^Error: requested CPUs are not available - requested 999/],
          [
            ["--memory-swappiness", "200"],
            /^Error: invalid value: 200, valid memory swappiness range is 0-100\n$/,
          ],
        ];
        for (const [flags, re] of cases) {
          const r = await h.pod(["run", "--rm", ...cg, ...flags, img.ref, "true"]);
          assert.equal(r.code, 125, `${flags.join(" ")}: ${r.stderr}`);
          assert.match(r.stderr, re);
        }
      });

      await t.step("--cgroups disabled: no cgroup of its own", async () => {
        const r = await h.pod([
          "run",
          "--rm",
          ...cg,
          "--cgroups",
          "disabled",
          img.ref,
          "cat",
          "/proc/self/cgroup",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stdout, /libpod-/);
        const d = await h.pod(["run", "--rm", ...cg, img.ref, "cat", "/proc/self/cgroup"]);
        assert.match(d.stdout, new RegExp(`memory:${p.parent}/libpod-[0-9a-f]{64}\n`));
      });

      await t.step("no cgroup is left behind", async () => {
        assert.equal((await h.pod(["rm", "-f", "-t", "0", "-a"])).code, 0);
        for (const c of ["memory", "pids", "cpu"]) {
          const dir = `${hierarchy(c)}${p.parent}`;
          const left = exists(dir) ? [...Deno.readDirSync(dir)].filter((e) => e.isDirectory) : [];
          assert.deepEqual(left.map((e) => e.name), [], `${dir}`);
        }
      });
    } finally {
      await h.pod(["rm", "-f", "-t", "0", "-a"]).catch(() => {});
      p.remove();
    }
  });
}

function rootlessSuite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    await t.step("limits: podman's warning on stderr, recorded, not applied", async () => {
      const r = await h.pod(["run", "--rm", "--memory", "20m", "--cpus", "1", img.ref, "echo", "hi"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "hi\n");
      assert.equal(
        r.stderr,
        "Resource limits are not supported and ignored on cgroups V1 rootless systems\n",
      );
      const plain = await h.pod(["run", "--rm", img.ref, "true"]);
      assert.equal(plain.stderr, "", "no warning without limits");
      const c = await h.pod(["create", "--name", "lim", "--memory", "20m", img.ref, "sleep", "60"]);
      assert.equal(c.code, 0, c.stderr);
      assert.equal(await inspect(h, "lim", ".HostConfig.Memory"), String(20 * 1024 * 1024));
      assert.equal((await h.pod(["start", "lim"])).code, 0);
      const u = await h.pod(["update", "--memory", "30m", "lim"]);
      assert.equal(u.code, 0, u.stderr);
      assert.match(u.stderr, /Resource limits are not supported and ignored on cgroups V1 rootless systems/);
      assert.equal(await inspect(h, "lim", ".HostConfig.Memory"), String(30 * 1024 * 1024));
    });

    await t.step("stats: podman's error", async () => {
      const s = await h.pod(["stats", "--no-stream"]);
      assert.equal(s.code, 125);
      assert.equal(s.stderr, "Error: stats is not supported in rootless mode without cgroups v2\n");
    });

    await t.step("bad values are still errors", async () => {
      const r = await h.pod(["run", "--rm", "--memory", "lots", img.ref, "true"]);
      assert.equal(r.code, 125);
      assert.equal(r.stderr, "Error: invalid value for memory: invalid size: 'lots'\n");
    });
  });
}

const registry = await registryAvailable();
const rootless = registry && await rootlessAvailable();
Deno.test({
  name: "cgroups (root)",
  ignore: !registry || Deno.uid() !== 0 || !writable,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: rootSuite("root"),
});
Deno.test({
  name: "cgroups (rootless)",
  ignore: !rootless || layout?.version !== 1,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: rootlessSuite("rootless"),
});
if (rootless && layout?.version !== 1) {
  console.log(
    "cgroups_test (rootless): this host is not cgroup v1 (podman's warning applies there): skipped",
  );
}
