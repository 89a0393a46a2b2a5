/**
 * lib/ns/cgroup.ts on a fake cgroupfs (plain files in a temp dir): which files the limits go to on v1 and v2,
 * in which order v1's memory and memory+swap limits are written (the kernel refuses memsw < limit), cpuset
 * dirs getting their parent's cpus/mems, usage and OOM counters; lib/container/resources.ts's parsing errors.
 */
import assert from "node:assert/strict";
import {
  applyCgroupLimits,
  type CgroupSpec,
  cgroupUsage,
  createCgroup,
  oomKills,
  removeCgroup,
} from "../../lib/ns/cgroup.ts";
import { parseCpuList, parseResources } from "../../lib/container/resources.ts";

const read = (p: string) => Deno.readTextFileSync(p).trim();

/** A v1 memory dir whose memsw file refuses a value below the limit, as the kernel does (checked after). */
function fakeV1(root: string): CgroupSpec {
  const dirs: Record<string, string> = {};
  for (const c of ["memory", "cpu", "cpuset", "pids"]) {
    Deno.mkdirSync(`${root}/${c}/parent/ctr`, { recursive: true });
    for (const d of [`${root}/${c}`, `${root}/${c}/parent`, `${root}/${c}/parent/ctr`]) {
      Deno.writeTextFileSync(`${d}/cgroup.procs`, "");
    }
    dirs[c] = `${root}/${c}/parent/ctr`;
  }
  Deno.writeTextFileSync(`${dirs.memory}/memory.limit_in_bytes`, "9223372036854771712");
  Deno.writeTextFileSync(`${dirs.memory}/memory.memsw.limit_in_bytes`, "9223372036854771712");
  return { version: 1, dirs, limits: {} };
}

Deno.test("v1: limits go to the controllers' files", () => {
  const root = Deno.makeTempDirSync();
  try {
    const spec = fakeV1(root);
    applyCgroupLimits(spec, {
      memory: 20 << 20,
      memorySwap: 40 << 20,
      memoryReservation: 10 << 20,
      cpuShares: 512,
      cpuQuota: 50000,
      cpuPeriod: 100000,
      cpusetCpus: "0",
      pidsLimit: 5,
    });
    const D = spec.dirs;
    assert.equal(read(`${D.memory}/memory.limit_in_bytes`), String(20 << 20));
    assert.equal(read(`${D.memory}/memory.memsw.limit_in_bytes`), String(40 << 20));
    assert.equal(read(`${D.memory}/memory.soft_limit_in_bytes`), String(10 << 20));
    assert.equal(read(`${D.cpu}/cpu.shares`), "512");
    assert.equal(read(`${D.cpu}/cpu.cfs_quota_us`), "50000");
    assert.equal(read(`${D.cpu}/cpu.cfs_period_us`), "100000");
    assert.equal(read(`${D.cpuset}/cpuset.cpus`), "0");
    assert.equal(read(`${D.pids}/pids.max`), "5");
    applyCgroupLimits(spec, { pidsLimit: 0, cpuQuota: -1 });
    assert.equal(read(`${D.pids}/pids.max`), "max");
    assert.equal(read(`${D.cpu}/cpu.cfs_quota_us`), "-1");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("v1: memory and memory+swap are written in an order the kernel accepts", () => {
  const root = Deno.makeTempDirSync();
  try {
    const spec = fakeV1(root);
    const mem = `${spec.dirs.memory}/memory.limit_in_bytes`;
    const memsw = `${spec.dirs.memory}/memory.memsw.limit_in_bytes`;
    applyCgroupLimits(spec, { memory: 20 << 20, memorySwap: 40 << 20 });
    // raising above the current memsw: memsw first (else the limit write would fail with EINVAL)
    const order: string[] = [];
    const orig = Deno.writeTextFileSync;
    Deno.writeTextFileSync = ((p: string, d: string) => {
      order.push(p.split("/").pop()!);
      orig(p, d);
    }) as typeof Deno.writeTextFileSync;
    try {
      applyCgroupLimits(spec, { memory: 64 << 20, memorySwap: 128 << 20 });
      assert.deepEqual(order, ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]);
      order.length = 0;
      applyCgroupLimits(spec, { memory: 10 << 20, memorySwap: 20 << 20 });
      assert.deepEqual(order, ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]);
    } finally {
      Deno.writeTextFileSync = orig;
    }
    assert.equal(read(mem), String(10 << 20));
    assert.equal(read(memsw), String(20 << 20));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("v1: a new cpuset dir gets its parent's cpus and mems", () => {
  const root = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${root}/cpuset`);
    Deno.writeTextFileSync(`${root}/cpuset/cgroup.procs`, "");
    Deno.writeTextFileSync(`${root}/cpuset/cpuset.cpus`, "0-1");
    Deno.writeTextFileSync(`${root}/cpuset/cpuset.mems`, "0");
    // the fake has no kernel to create cgroup.procs in new dirs: made beforehand for the leaf's parent check
    const spec: CgroupSpec = { version: 1, dirs: { cpuset: `${root}/cpuset/p/c` }, limits: {} };
    const realMkdir = Deno.mkdirSync;
    Deno.mkdirSync = ((p: string, o?: Deno.MkdirOptions) => {
      realMkdir(p, o);
      Deno.writeTextFileSync(`${p}/cgroup.procs`, "");
    }) as typeof Deno.mkdirSync;
    try {
      createCgroup(spec);
    } finally {
      Deno.mkdirSync = realMkdir;
    }
    assert.equal(read(`${root}/cpuset/p/cpuset.cpus`), "0-1");
    assert.equal(read(`${root}/cpuset/p/c/cpuset.cpus`), "0-1");
    assert.equal(read(`${root}/cpuset/p/c/cpuset.mems`), "0");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("v2: memory.max, memory.swap.max (swap only), cpu.max, cpu.weight, pids.max", () => {
  const root = Deno.makeTempDirSync();
  try {
    const d = `${root}/ctr`;
    Deno.mkdirSync(d);
    Deno.writeTextFileSync(`${d}/memory.swap.max`, "max");
    const spec: CgroupSpec = { version: 2, dirs: { unified: d }, limits: {} };
    applyCgroupLimits(spec, {
      memory: 20 << 20,
      memorySwap: 40 << 20,
      cpuQuota: 50000,
      cpuPeriod: 100000,
      cpuShares: 1024,
      pidsLimit: 5,
    });
    assert.equal(read(`${d}/memory.max`), String(20 << 20));
    assert.equal(read(`${d}/memory.swap.max`), String(20 << 20));
    assert.equal(read(`${d}/cpu.max`), "50000 100000");
    assert.equal(read(`${d}/cpu.weight`), "39"); // runc's conversion of 1024 shares
    assert.equal(read(`${d}/pids.max`), "5");
    applyCgroupLimits(spec, { memory: 0, cpuQuota: -1, cpuPeriod: 100000 });
    assert.equal(read(`${d}/memory.max`), "max");
    assert.equal(read(`${d}/cpu.max`), "max 100000");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("usage and OOM counters; removal", async () => {
  const root = Deno.makeTempDirSync();
  try {
    const spec = fakeV1(root);
    const D = spec.dirs;
    Deno.mkdirSync(`${root}/cpuacct/parent/ctr`, { recursive: true });
    D.cpuacct = `${root}/cpuacct/parent/ctr`;
    Deno.writeTextFileSync(`${D.cpuacct}/cpuacct.usage`, "123456789\n");
    Deno.writeTextFileSync(`${D.memory}/memory.usage_in_bytes`, "5000000\n");
    Deno.writeTextFileSync(`${D.memory}/memory.stat`, "cache 1\ntotal_inactive_file 1000000\n");
    Deno.writeTextFileSync(`${D.memory}/memory.limit_in_bytes`, "20971520\n");
    Deno.writeTextFileSync(`${D.pids}/pids.current`, "3\n");
    Deno.writeTextFileSync(`${D.memory}/memory.oom_control`, "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    assert.deepEqual(cgroupUsage(spec), {
      cpuNs: 123456789,
      memory: 4000000,
      memoryLimit: 20971520,
      pids: 3,
    });
    assert.equal(oomKills(spec), 2);
    // the fake's dirs are not empty (plain files), so they stay: removal reports them
    assert.equal((await removeCgroup(spec, 0)).length, 5);
    const empty: CgroupSpec = { version: 1, dirs: { x: `${root}/empty` }, limits: {} };
    Deno.mkdirSync(`${root}/empty`);
    assert.deepEqual(await removeCgroup(empty, 0), []);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("resource flags: podman's parse errors", () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ memory: "abc" }, /^invalid value for memory: invalid size: 'abc'$/],
    [{ memory: "10x" }, /^invalid value for memory: invalid size: '10x'$/],
    [
      { cpus: "abc" },
      /^invalid argument "abc" for "--cpus" flag: strconv\.ParseFloat: parsing "abc": invalid syntax$/,
    ],
    [{ cpus: "-1" }, /must not be negative/],
    [{ pidsLimit: "1.5" }, /^invalid argument "1.5" for "--pids-limit" flag: strconv\.ParseInt/],
    [{ cpuShares: "-2" }, /^invalid argument "-2" for "-c, --cpu-shares" flag: strconv\.ParseUint/],
    [{ cpus: "1", cpuQuota: "20000" }, /^--cpu-quota and --cpus cannot be set together$/],
    [{ cgroups: "maybe" }, /^invalid cgroup mode "maybe"$/],
    [{ cgroups: "disabled", memory: "10m" }, /^cannot set resource limits when cgroups are disabled$/],
  ];
  for (const [o, re] of bad) {
    assert.throws(() => parseResources(o), (e: Error) => re.test(e.message), JSON.stringify(o));
  }
  assert.deepEqual(parseCpuList("0-2,5"), [0, 1, 2, 5]);
  assert.equal(parseCpuList("2-1"), undefined);
  assert.equal(parseCpuList("a"), undefined);
});
