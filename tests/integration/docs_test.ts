/**
 * Help and docs from the command definitions: `pod GROUP --help` lists each subcommand with its summary, the
 * man pages (`scripts/man.ts`) render with `man -l` without warnings and cover every command, and the bash
 * completion completes commands, subcommands, flags and (root and rootless) the store's container, image and
 * volume names.
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode, testRootAndRootless } from "../helpers/modes.ts";
import { CLI_PATH, podCommand, REPO_ROOT } from "../helpers/pod.ts";

async function sh(cmd: string, args: string[], env: Record<string, string> = {}) {
  const o = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  return {
    code: o.code,
    stdout: new TextDecoder().decode(o.stdout),
    stderr: new TextDecoder().decode(o.stderr),
  };
}

async function has(tool: string): Promise<boolean> {
  return (await sh("sh", ["-c", `command -v ${tool}`])).code === 0;
}

const haveMan = await has("man") && await has("groff");
if (!haveMan) {
  console.log("ignored: man pages test needs man-db and groff-base (apt-get install man-db groff-base)");
}

Deno.test(
  { name: "man pages: one per command and subcommand, rendered by man -l", ignore: !haveMan },
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const gen = await sh(Deno.execPath(), ["run", "-A", `${REPO_ROOT}/scripts/man.ts`, "--out", dir]);
      assert.equal(gen.code, 0, gen.stderr);
      const files = [];
      for await (const e of Deno.readDir(dir)) files.push(e.name);
      for (
        const want of [
          "pod.1",
          "pod-run.1",
          "pod-events.1",
          "pod-volume.1",
          "pod-volume-create.1",
          "pod-unshare.1",
        ]
      ) {
        assert.ok(files.includes(want), want);
      }
      const lint = await sh("groff", ["-man", "-ww", "-z", ...files.map((f) => `${dir}/${f}`)]);
      assert.equal(lint.stderr, "");
      const run = await sh("man", ["-l", `${dir}/pod-run.1`], {
        MANWIDTH: "100",
        PATH: Deno.env.get("PATH") ?? "",
      });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /NAME\s+pod-run - Run a command in a new container/);
      assert.match(run.stdout, /-d, --detach/);
      const top = await sh("man", ["-l", `${dir}/pod.1`], {
        MANWIDTH: "100",
        PATH: Deno.env.get("PATH") ?? "",
      });
      assert.match(top.stdout, /pod-volume\(1\)/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("group help: every subcommand with its summary", async () => {
  const r = await sh(Deno.execPath(), ["run", "-A", CLI_PATH, "volume", "--help"], {
    POD_HOME: "/nonexistent",
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\n {2}create +Create a new volume\n/);
  assert.match(r.stdout, /\n {2}rm +Remove one or more volumes\n/);
  const sys = await sh(Deno.execPath(), ["run", "-A", CLI_PATH, "system", "--help"], {
    POD_HOME: "/nonexistent",
  });
  assert.match(sys.stdout, /\n {2}events +Show pod events\n/);
});

function completionSuite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }) => {
    assert.equal((await h.pod(["create", "--name", "compl-ctr", img.ref, "true"])).code, 0);
    assert.equal((await h.pod(["volume", "create", "compl-vol"])).code, 0);
    const script = await h.pod(["completion", "bash"]);
    assert.equal(script.code, 0, script.stderr);
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/pod.bash`, script.stdout);
      // `pod` in the script runs this store's pod, as the suite's user
      const c = await podCommand([], { home: h.home, user: h.user?.name });
      const quoted = [c.cmd, ...c.args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
      const envs = Object.entries(c.env).map(([k, v]) => `${k}='${v.replace(/'/g, "'\\''")}'`).join(" ");
      const test = `source ${dir}/pod.bash
pod() { env -i ${envs} ${quoted} "$@"; }
t() { COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _pod; echo "\${COMPREPLY[*]}"; }
t pod vol
t pod volume r
t pod run --na
t pod stop compl
t pod volume rm compl
t pod rmi ${img.ref.slice(0, 5)}
`;
      const r = await sh("bash", ["-c", test]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split("\n"), [
        "volume",
        "remove rm",
        "--name",
        "compl-ctr",
        "compl-vol",
        img.ref,
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

await testRootAndRootless("completion names", completionSuite);
