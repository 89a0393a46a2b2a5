/**
 * The exec helper in C (lib/ns/exec_helper_c.ts), root and rootless: built once into the store's `helpers/`
 * on the first exec and named by the start's plan, and, exec for exec, the same process as perl's helper
 * (`POD_EXEC_HELPER=perl`) gives: ids, groups, capabilities (bounding, ambient), no_new_privs, seccomp, signal
 * masks, cgroups, namespaces, environment, working directory, descriptors, and the same exit codes and one-line
 * errors. A removed binary is built again; `exec -d` and `exec -t` (through setsid) start it too (mutation-checked: the
 * absolute path in helpers_check.ts `hostBinary`). Without a C compiler on the host the steps are skipped (named).
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";

const PROBE = [
  "sh",
  "-c",
  "grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs|Seccomp[a-z_]*|Sig(Blk|Ign|Cgt)):' /proc/self/status; " +
  "cat /proc/self/cgroup; ls /proc/self/fd; for n in pid mnt net uts ipc user; do readlink /proc/self/ns/$n; done; " +
  'env | sort; pwd; echo "$0 $#"',
];

const CASES: string[][] = [
  ["c", ...PROBE],
  ["-u", "1000:1000", "--cap-add", "NET_RAW,SYS_TIME", "c", ...PROBE],
  ["--privileged", "c", ...PROBE],
  ["-w", "/etc", "-e", "A=1", "-e", "A=2", "-e", "B", "c", ...PROBE],
  ["nnp", ...PROBE],
  ["-u", "1000", "nnp", ...PROBE],
  ["c", "no-such-command"],
  ["c", "/no/such"],
  ["c", "/etc/passwd"],
  ["-w", "/no/such/dir", "c", "pwd"],
  ["c", "sh", "-c", "kill -TERM $$"],
  ["c", "sh", "-c", "exit 7"],
];

const hasCc = ["/usr/bin/cc", "/usr/local/bin/cc", "/usr/bin/gcc"].some((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

await testRootAndRootless("exec helper in C", (mode) =>
  busyboxSuite(mode, async ({ h, img }, t) => {
    if (!hasCc) console.log("exec helper in C: skipped, no C compiler (cc) on this host: exec uses perl");
    const sleeper = ["sh", "-c", "sleep 100000"];
    for (const [name, extra] of [["c", []], ["nnp", ["--security-opt", "no-new-privileges"]]] as const) {
      const up = await h.pod(["run", "-d", "--name", name, ...extra, img.ref, ...sleeper]);
      assert.equal(up.code, 0, up.stderr);
    }
    const id = (await h.pod(["inspect", "--format", "{{.Id}}", "c"])).stdout.trim();
    const planFile = `${h.home}/containers/${id}/run/exec_plan.json`;
    const planned = async () => JSON.parse(await Deno.readTextFile(planFile)).helper.argv[0] as string;
    const helpers = async () => {
      const names: string[] = [];
      for await (const e of Deno.readDir(`${h.home}/helpers`)) names.push(e.name);
      return names;
    };

    await t.step({
      name: "built once into the store, named by the plan; a removed binary is built again",
      ignore: !hasCc,
      fn: async () => {
        const first = await h.pod(["exec", "c", "true"]);
        assert.equal(first.code, 0, first.stderr);
        const built = await helpers();
        assert.equal(built.length, 1, built.join(" "));
        assert.match(built[0], /^exec-helper-[0-9a-f]{16}$/);
        assert.equal(await planned(), `${h.home}/helpers/${built[0]}`);
        const again = await h.pod(["--log-level", "debug", "exec", "c", "true"]);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stderr, /exec: started from the plan/);
        await Deno.remove(`${h.home}/helpers/${built[0]}`);
        const rebuilt = await h.pod(["exec", "c", "sh", "-c", "echo hi"]);
        assert.equal(rebuilt.code, 0, rebuilt.stderr);
        assert.equal(rebuilt.stdout, "hi\n");
        assert.deepEqual(await helpers(), built);
        // with perl asked for, the plan is not used and perl makes the next one
        const perl = await h.pod(["exec", "c", "true"], { env: { POD_EXEC_HELPER: "perl" } });
        assert.equal(perl.code, 0, perl.stderr);
        assert.equal(await planned(), "perl");
      },
    });

    await t.step({
      name: "exec -d and exec -t start the compiled helper too",
      ignore: !hasCc,
      fn: async () => {
        const d = await h.pod([
          "exec",
          "-d",
          "c",
          "sh",
          "-c",
          "grep ^CapBnd: /proc/self/status > /tmp/detached",
        ]);
        assert.equal(d.code, 0, d.stderr);
        let out = "";
        for (let i = 0; i < 100 && !out; i++) {
          out = (await h.pod(["exec", "c", "cat", "/tmp/detached"])).stdout;
          if (!out) await new Promise((r) => setTimeout(r, 100));
        }
        const bnd = (await h.pod(["exec", "c", "grep", "^CapBnd:", "/proc/self/status"])).stdout;
        assert.equal(out, bnd, "the detached exec's bounding set");
        const tty = await h.pod([
          "exec",
          "-t",
          "c",
          "sh",
          "-c",
          "test -t 0 && grep ^CapBnd: /proc/self/status",
        ]);
        assert.equal(tty.code, 0, tty.stderr);
        assert.equal(tty.stdout.replace(/\r/g, ""), bnd);
      },
    });

    await t.step({
      name: "each exec as perl's helper runs it: process settings, exit codes, errors",
      ignore: !hasCc,
      fn: async () => {
        const sigIgn = (out: string) =>
          out.replace(/^SigIgn:\s+([0-9a-f]+)$/m, (_, x) => {
            const ign = BigInt(`0x${x}`);
            assert.equal(ign & (1n << 12n), 0n, "SIGPIPE is ignored in the exec'd process");
            // glibc's 32 and 33: as pod itself was started (see exec_test)
            return `SigIgn: ${(ign & ~(3n << 31n)).toString(16)}`;
          });
        for (const args of CASES) {
          // each from the full path (no plan): the helper named by this run's choice
          await Deno.remove(planFile).catch(() => {});
          const viaPerl = await h.pod(["exec", ...args], { env: { POD_EXEC_HELPER: "perl" } });
          await Deno.remove(planFile).catch(() => {});
          const viaC = await h.pod(["exec", ...args]);
          const label = args.join(" ").slice(0, 80);
          assert.equal(viaC.code, viaPerl.code, `${label}: ${viaC.stderr} / ${viaPerl.stderr}`);
          assert.equal(sigIgn(viaC.stdout), sigIgn(viaPerl.stdout), label);
          assert.equal(viaC.stderr, viaPerl.stderr, label);
          if (args[0] === "c" && args.length > 2) {
            // planned (the same helper from the plan)
            const again = await h.pod(["exec", ...args]);
            assert.equal(again.code, viaC.code, label);
            assert.equal(sigIgn(again.stdout), sigIgn(viaC.stdout), `${label} (planned)`);
          }
        }
        // the settings actually differ between cases (the comparison is not of empty outputs)
        const user = await h.pod(["exec", ...CASES[1]]);
        assert.match(user.stdout, /^Uid:\s+1000\s/m);
        assert.match(user.stdout, /^CapAmb:\s+0*2002000$/m);
        const nnp = await h.pod(["exec", ...CASES[4]]);
        assert.match(nnp.stdout, /^NoNewPrivs:\s+1$/m);
        assert.match(nnp.stdout, /^Seccomp:\s+2$/m);
        const env = await h.pod(["exec", ...CASES[3]]);
        assert.match(env.stdout, /^A=2$/m);
        assert.match(env.stdout, /^\/etc$/m);
      },
    });
  }));
