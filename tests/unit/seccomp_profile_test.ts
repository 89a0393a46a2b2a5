/**
 * Seccomp profile translation (lib/ns/seccomp_profile.ts) and the security flags (lib/container/security.ts):
 * actions, caps/arches/minKernel includes and excludes, argument rules, the shipped copy of containers-common's
 * profile, capability sets, ulimits.
 */
import assert from "node:assert/strict";
import {
  actionValue,
  compileProfile,
  kernelAtLeast,
  type SeccompProfile,
} from "../../lib/ns/seccomp_profile.ts";
import {
  containerCapabilities,
  normalizeCap,
  parseSecurity,
  parseUlimit,
} from "../../lib/container/security.ts";
import { readProfile, SYSTEM_PROFILE } from "../../lib/container/seccomp.ts";
import shipped from "../../lib/ns/seccomp_default.json" with { type: "json" };

const ALLOW = 0x7fff0000;

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    console.log(`${path} missing (containers-common): the comparison with pod's copy is skipped`);
    return false;
  }
}
const errno = (n: number) => 0x00050000 | n;

const profile: SeccompProfile = {
  defaultAction: "SCMP_ACT_ERRNO",
  defaultErrnoRet: 38,
  archMap: [
    { architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] },
    { architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"] },
  ],
  syscalls: [
    { names: ["read", "write"], action: "SCMP_ACT_ALLOW" },
    { names: ["nope"], action: "SCMP_ACT_ERRNO", errnoRet: 38 }, // = the default: dropped
    { names: ["setns"], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYS_ADMIN"] } },
    { names: ["setns"], action: "SCMP_ACT_ERRNO", errnoRet: 1, excludes: { caps: ["CAP_SYS_ADMIN"] } },
    { names: ["arch_prctl"], action: "SCMP_ACT_ALLOW", includes: { arches: ["amd64", "x32"] } },
    { names: ["new_call"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "5.8" } },
    {
      names: ["personality"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: 8, valueTwo: 0, op: "SCMP_CMP_EQ" }],
    },
    {
      names: ["socket"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: 22,
      args: [
        { index: 0, value: 16, op: "SCMP_CMP_EQ" },
        { index: 2, value: 9, op: "SCMP_CMP_EQ" },
      ],
    },
    {
      names: ["clone"],
      action: "SCMP_ACT_ALLOW",
      args: [
        { index: 0, value: 1, op: "SCMP_CMP_MASKED_EQ", valueTwo: 0 },
        { index: 0, value: 2, op: "SCMP_CMP_NE" },
      ],
    },
  ],
};

Deno.test("seccomp: actions and the default errno", () => {
  assert.equal(actionValue("SCMP_ACT_ALLOW", undefined), ALLOW);
  assert.equal(actionValue("SCMP_ACT_ERRNO", undefined), errno(1)); // EPERM unless told
  assert.equal(actionValue("SCMP_ACT_ERRNO", 38), errno(38));
  assert.equal(actionValue("SCMP_ACT_KILL_PROCESS", undefined), 0x80000000);
  assert.throws(() => actionValue("SCMP_ACT_NOTIFY", undefined), /unsupported action/);
  const c = compileProfile(profile, { capabilities: [], arch: "amd64", kernel: "6.1.0-13-amd64" });
  assert.equal(c.defaultAction, errno(38));
  assert.deepEqual(c.arches, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
});

Deno.test("seccomp: capabilities select the rules (includes/excludes caps)", () => {
  const without = compileProfile(profile, { capabilities: ["CHOWN"], arch: "amd64", kernel: "6.1" });
  const setns = (c: typeof without) => c.rules.filter((r) => r.names.includes("setns"));
  assert.deepEqual(setns(without).map((r) => r.action), [errno(1)]);
  const admin = compileProfile(profile, { capabilities: ["sys_admin"], arch: "amd64", kernel: "6.1" });
  assert.deepEqual(setns(admin).map((r) => r.action), [ALLOW]);
  assert.ok(!without.rules.some((r) => r.names.includes("nope")), "a rule repeating the default is dropped");
});

Deno.test("seccomp: arches and minKernel", () => {
  const amd = compileProfile(profile, { capabilities: [], arch: "amd64", kernel: "5.10.0" });
  const arm = compileProfile(profile, { capabilities: [], arch: "arm64", kernel: "5.4.0" });
  assert.ok(amd.rules.some((r) => r.names.includes("arch_prctl")));
  assert.ok(!arm.rules.some((r) => r.names.includes("arch_prctl")));
  assert.deepEqual(arm.arches, ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
  assert.ok(amd.rules.some((r) => r.names.includes("new_call")));
  assert.ok(!arm.rules.some((r) => r.names.includes("new_call")), "5.4 < minKernel 5.8");
  assert.ok(kernelAtLeast("6.18.44-fc-v1272", "5.8"));
  assert.ok(kernelAtLeast("5.8", "5.8"));
  assert.ok(!kernelAtLeast("5.7.19", "5.8"));
});

Deno.test("seccomp: argument rules (same index → one rule per comparison)", () => {
  const c = compileProfile(profile, { capabilities: [], arch: "amd64", kernel: "6.1" });
  const personality = c.rules.filter((r) => r.names.includes("personality"));
  assert.deepEqual(personality, [{
    names: ["personality"],
    action: ALLOW,
    args: [{ index: 0, op: 4, a: 8, b: 0 }],
  }]);
  const socket = c.rules.filter((r) => r.names.includes("socket"));
  assert.equal(socket.length, 1);
  assert.deepEqual(socket[0].args.map((a) => a.index), [0, 2]);
  assert.equal(socket[0].action, errno(22));
  const clone = c.rules.filter((r) => r.names.includes("clone"));
  assert.equal(clone.length, 2);
  assert.deepEqual(clone.map((r) => r.args[0].op), [7, 1]);
  assert.throws(
    () =>
      compileProfile({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{
          names: ["x"],
          action: "SCMP_ACT_ERRNO",
          args: [{ index: 0, value: 0, op: "SCMP_CMP_LIKE" }],
        }],
      }, { capabilities: [], arch: "amd64", kernel: "6.1" }),
    /unsupported argument operator/,
  );
});

Deno.test("seccomp: the shipped copy of containers-common's profile compiles as podman's", () => {
  const caps = containerCapabilities({ privileged: false });
  const c = compileProfile(shipped as SeccompProfile, { capabilities: caps, arch: "amd64", kernel: "6.1" });
  assert.equal(c.defaultAction, errno(38));
  const allowed = new Set(
    c.rules.filter((r) => r.action === ALLOW && !r.args.length).flatMap((r) => r.names),
  );
  for (const n of ["read", "execve", "clone3", "chroot"]) assert.ok(allowed.has(n), n);
  for (const n of ["bpf", "perf_event_open", "kexec_load", "init_module", "acct"]) {
    assert.ok(!allowed.has(n), n);
  }
  const denied = new Set(c.rules.filter((r) => r.action === errno(1)).flatMap((r) => r.names));
  assert.ok(denied.has("bpf") && denied.has("kexec_load"));
  const admin = compileProfile(shipped as SeccompProfile, {
    capabilities: [...caps, "CAP_SYS_ADMIN"],
    arch: "amd64",
    kernel: "6.1",
  });
  assert.ok(admin.rules.some((r) => r.action === ALLOW && r.names.includes("bpf")));
});

Deno.test("capabilities: podman's default, --cap-add/--cap-drop, ALL, privileged", () => {
  const def = containerCapabilities({ privileged: false });
  assert.ok(def.includes("CAP_CHOWN") && !def.includes("CAP_SYS_ADMIN"));
  assert.equal(def.length, 11);
  const sec = parseSecurity({ capAdd: ["sys_admin,NET_RAW"], capDrop: ["CAP_CHOWN"] });
  const c = containerCapabilities({ privileged: false, security: sec });
  assert.ok(c.includes("CAP_SYS_ADMIN") && c.includes("CAP_NET_RAW") && !c.includes("CAP_CHOWN"));
  const only = containerCapabilities({
    privileged: false,
    security: parseSecurity({ capDrop: ["all"], capAdd: ["kill"] }),
  });
  assert.deepEqual(only, ["CAP_KILL"]);
  assert.equal(containerCapabilities({ privileged: true }).length, 41);
  assert.equal(normalizeCap("cap_net_admin"), "CAP_NET_ADMIN");
  assert.throws(() => normalizeCap("CAP_FLY"), /unknown capability/);
});

Deno.test("security options and ulimits", () => {
  assert.equal(parseSecurity({}), undefined);
  assert.deepEqual(parseSecurity({ securityOpt: ["seccomp=unconfined", "no-new-privileges"] }), {
    seccomp: "unconfined",
    noNewPrivileges: true,
    securityOpt: ["seccomp=unconfined", "no-new-privileges"],
  });
  assert.equal(parseSecurity({ securityOpt: ["no-new-privileges=false"] })?.noNewPrivileges, false);
  assert.equal(parseSecurity({ securityOpt: ["label=disable"] })?.securityOpt?.[0], "label=disable");
  assert.throws(
    () => parseSecurity({ securityOpt: ["seccomp=/nonexistent.json"] }),
    /seccomp profile failed/,
  );
  assert.throws(() => parseSecurity({ securityOpt: ["bogus"] }), /invalid --security-opt/);
  assert.deepEqual(parseUlimit("nofile=1024:2048"), { name: "nofile", soft: 1024, hard: 2048 });
  assert.deepEqual(parseUlimit("nproc=100"), { name: "nproc", soft: 100, hard: 100 });
  assert.deepEqual(parseUlimit("core=-1"), { name: "core", soft: -1, hard: -1 });
  assert.throws(() => parseUlimit("nofile=10:5"), /greater than hard/);
  assert.throws(() => parseUlimit("files=1"), /invalid ulimit/);
  assert.throws(() => parseUlimit("nofile=x"), /not a number/);
  assert.equal(parseSecurity({ ulimit: ["host"] }), undefined);
  assert.throws(() => parseSecurity({ oomScoreAdj: 2000 }), /between -1000 and 1000/);
});

Deno.test({
  name: "seccomp: pod's copy holds the same rules as containers-common's installed profile",
  ignore: !existsSync(SYSTEM_PROFILE),
  async fn() {
    assert.deepEqual(await readProfile(undefined), await readProfile(SYSTEM_PROFILE));
  },
});
