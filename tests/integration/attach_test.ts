/**
 * `pod attach` to detached containers: the caller's input reaches a `-i` container (through a pipe without a
 * tty, through the pty with one), its output and exit code come back; the detach keys leave it running; a
 * container without `-i` is followed output-only. Root and rootless.
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode, testRootAndRootless } from "../helpers/modes.ts";
import { isOneLineError, podCommand } from "../helpers/pod.ts";

const haveScript =
  (await new Deno.Command("sh", { args: ["-c", "command -v script"], stdout: "null" }).output())
    .success;
const shq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function suite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    const running = async (name: string) =>
      (await h.pod(["inspect", "-f", "{{.State.Running}}", name])).stdout.trim() === "true";

    await t.step("-i without a tty: input through a pipe, output and exit code back", async () => {
      assert.equal((await h.pod(["run", "-di", "--name", "pipe", img.ref, "sh"])).code, 0);
      const r = await h.pod(["attach", "pipe"], { stdin: "echo hello-$((1+2))\nexit 5\n" });
      assert.equal(r.code, 5, r.stderr);
      assert.equal(r.stdout, "hello-3\n");
      assert.equal(await running("pipe"), false);
    });

    await t.step("-it: input through the pty (echoed), exit code back", async () => {
      assert.equal((await h.pod(["run", "-dit", "--name", "tty", img.ref, "sh"])).code, 0);
      const r = await h.pod(["attach", "tty"], { stdin: "echo tty-$((2+2))\nexit 6\n" });
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stdout, /\r\ntty-4\r\n/);
    });

    await t.step({
      name: "-it from a terminal: raw input, the container's tty takes the terminal's size",
      ignore: !haveScript,
      fn: async () => {
        assert.equal((await h.pod(["run", "-dit", "--name", "term", img.ref, "sh"])).code, 0);
        const c = await podCommand(["attach", "term"], { home: h.home, user: h.user?.name });
        // util-linux script gives pod a terminal of 33 rows and 111 columns
        const line = `stty rows 33 cols 111; exec ${[c.cmd, ...c.args].map(shq).join(" ")}`;
        const child = new Deno.Command("script", {
          args: ["-qec", line, "/dev/null"],
          env: c.env,
          clearEnv: true,
          cwd: c.cwd,
          stdin: "piped",
          stdout: "piped",
          stderr: "null",
        }).spawn();
        const out = new Response(child.stdout).text();
        const w = child.stdin.getWriter();
        await sleep(1500);
        await w.write(new TextEncoder().encode("stty size\r"));
        await sleep(500);
        await w.write(new TextEncoder().encode("exit 9\r"));
        const status = await child.status;
        await w.close().catch(() => {});
        const text = await out;
        assert.equal(status.code, 9, text);
        assert.match(text, /33 111/);
      },
    });

    await t.step("the detach keys end the attach and leave the container running", async () => {
      assert.equal((await h.pod(["run", "-dit", "--name", "det", img.ref, "sh"])).code, 0);
      const r = await h.pod(["attach", "det"], { stdin: "echo be''fore\n\x10\x11echo ne''ver\n" });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await running("det"), true);
      // what came before the keys was typed, what came after was not (the log has the pty's output)
      let logs = "";
      for (let i = 0; i < 50 && !logs.includes("before"); i++) {
        await new Promise((res) => setTimeout(res, 50));
        logs = (await h.pod(["logs", "det"])).stdout;
      }
      assert.match(logs, /\r\nbefore\r\n/);
      assert.ok(!logs.includes("never"), logs);
      const c = await h.pod(["attach", "--detach-keys", "ctrl-x", "det"], { stdin: "echo again\n\x18" });
      assert.equal(c.code, 0, c.stderr);
      assert.equal(await running("det"), true);
      const bad = await h.pod(["attach", "--detach-keys", "ctrl-1", "det"]);
      assert.equal(bad.code, 125);
      assert.ok(isOneLineError(bad.stderr), bad.stderr);
      assert.equal((await h.pod(["rm", "-f", "-t", "0", "det"])).code, 0);
    });

    await t.step("without -i: output only, until the container exits", async () => {
      assert.equal(
        (await h.pod(["run", "-d", "--name", "out", img.ref, "sh", "-c", "sleep 1; echo late; exit 7"]))
          .code,
        0,
      );
      const r = await h.pod(["attach", "out"], { stdin: "ignored\n" });
      assert.equal(r.code, 7, r.stderr);
      assert.equal(r.stdout, "late\n");
    });
  });
}

await testRootAndRootless("attach", suite);
