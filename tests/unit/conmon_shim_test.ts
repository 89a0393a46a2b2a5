/**
 * conmon2 (issue 13): the shim conmon runs for pod's own runtime (lib/ns/conmon_shim.ts): `create` reports
 * unshare's pid and the init's, `exit` runs the network hook before it writes the exit record (code, time, OOM),
 * removes the cgroup dirs, appends the `died`/`cleanup` events in the perl supervisor's shape, starts the hook;
 * other verbs do nothing.
 * @module
 */
import assert from "node:assert/strict";
import { conmonShim } from "../../lib/ns/conmon_shim.ts";
import { shQuote } from "../../lib/ns/sh_quote.ts";

async function sh(script: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const o = await new Deno.Command("/bin/sh", {
    args: [script, ...args],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  })
    .output();
  return { code: o.code, stderr: new TextDecoder().decode(o.stderr) };
}

Deno.test("shQuote: one sh word", async () => {
  const s = 'it\'s $HOME `x` "q"';
  const o = await new Deno.Command("/bin/sh", { args: ["-c", `printf %s ${shQuote(s)}`], stdout: "piped" })
    .output();
  assert.equal(new TextDecoder().decode(o.stdout), s);
});

Deno.test("conmon shim: exit step", async () => {
  const d = await Deno.makeTempDir();
  try {
    Deno.writeTextFileSync(`${d}/code`, "7");
    Deno.writeTextFileSync(`${d}/memory.events`, "low 0\noom 1\noom_kill 1\n");
    Deno.mkdirSync(`${d}/cg1`);
    Deno.mkdirSync(`${d}/cg2`);
    // the hook sees no exit record yet (it runs first); it removes itself, as network-cleanup.sh does
    Deno.writeTextFileSync(
      `${d}/net.sh`,
      `[ -e ${d}/exit.json ] && echo late > ${d}/net.out; echo ran >> ${d}/net.out`,
    );
    const head = `"ID":"abc","Image":"img","Name":"it's"`;
    const tail = `,"Type":"container","Attributes":{"a":"%s"}}`;
    const script = conmonShim(["true"], true, `${d}/upid`, {
      conmonExit: `${d}/code`,
      exitJson: `${d}/exit.json`,
      netHook: `${d}/net.sh`,
      oomFile: `${d}/memory.events`,
      cgroupDirs: [`${d}/cg1`, `${d}/cg2`],
      events: { path: `${d}/events.log`, head, tail },
      hook: ["/bin/sh", "-c", `echo hooked > ${d}/hook.out`],
    });
    Deno.writeTextFileSync(`${d}/shim.sh`, script);
    const r = await sh(`${d}/shim.sh`, ["exit"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.readTextFileSync(`${d}/net.out`), "ran\n");
    const rec = JSON.parse(Deno.readTextFileSync(`${d}/exit.json`));
    assert.equal(rec.exitCode, 7);
    assert.equal(rec.oomKilled, true);
    assert.match(rec.finishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.throws(() => Deno.statSync(`${d}/cg1`));
    assert.throws(() => Deno.statSync(`${d}/cg2`));
    const lines = Deno.readTextFileSync(`${d}/events.log`).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((e) => [e.Status, e.ContainerExitCode, e.Name, e.Attributes.a]), [
      ["died", 7, "it's", "%s"],
      ["cleanup", 7, "it's", "%s"],
    ]);
    assert.match(lines[0].Time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/);
    for (let i = 0; i < 200; i++) {
      try {
        if (Deno.readTextFileSync(`${d}/hook.out`) === "hooked\n") break;
      } catch { /* not yet */ }
      await new Promise((res) => setTimeout(res, 10));
    }
    assert.equal(Deno.readTextFileSync(`${d}/hook.out`), "hooked\n");
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("conmon shim: exit 0 has no ContainerExitCode; no OOM; other verbs do nothing", async () => {
  const d = await Deno.makeTempDir();
  try {
    Deno.writeTextFileSync(`${d}/code`, "0");
    const script = conmonShim(["false"], false, `${d}/upid`, {
      conmonExit: `${d}/code`,
      exitJson: `${d}/exit.json`,
      events: { path: `${d}/events.log`, head: `"ID":"abc"`, tail: "}" },
    });
    Deno.writeTextFileSync(`${d}/shim.sh`, script);
    for (const verb of ["start", "kill", "delete", "state"]) {
      assert.equal((await sh(`${d}/shim.sh`, [verb, "abc"])).code, 0);
    }
    assert.throws(() => Deno.statSync(`${d}/exit.json`));
    assert.equal((await sh(`${d}/shim.sh`, ["exit"])).code, 0);
    const rec = JSON.parse(Deno.readTextFileSync(`${d}/exit.json`));
    assert.deepEqual(Object.keys(rec), ["exitCode", "finishedAt"]);
    assert.equal(rec.exitCode, 0);
    const lines = Deno.readTextFileSync(`${d}/events.log`).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines[0].ContainerExitCode, undefined);
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("conmon shim: create writes unshare's pid and the init's (forking and not)", async () => {
  const d = await Deno.makeTempDir();
  try {
    const exit = { conmonExit: `${d}/code`, exitJson: `${d}/exit.json` };
    // forks: the command reports the init's pid on fd 4 (as unshare's sh does) and exits
    Deno.writeTextFileSync(
      `${d}/fork.sh`,
      conmonShim(["/bin/sh", "-c", "sleep 5 2>/dev/null 4>&- & echo $! >&4"], true, `${d}/upid`, exit),
    );
    let r = await sh(`${d}/fork.sh`, ["create", "--bundle", d, "--pid-file", `${d}/pid`, "abc"]);
    assert.equal(r.code, 0, r.stderr);
    const init = Number(Deno.readTextFileSync(`${d}/pid`).trim());
    assert.ok(init > 0);
    assert.equal(Deno.readTextFileSync(`/proc/${init}/comm`).trim(), "sleep");
    assert.match(Deno.readTextFileSync(`${d}/upid`), /^\d+\n$/);
    Deno.kill(init, "SIGKILL");
    // not forking: the command itself is the init
    Deno.writeTextFileSync(
      `${d}/nofork.sh`,
      conmonShim(["/bin/sh", "-c", "exec sleep 5 2>/dev/null"], false, `${d}/upid2`, exit),
    );
    r = await sh(`${d}/nofork.sh`, ["create", "--bundle", d, "--pid-file", `${d}/pid2`, "abc"]);
    assert.equal(r.code, 0, r.stderr);
    const p2 = Deno.readTextFileSync(`${d}/pid2`).trim();
    assert.equal(Deno.readTextFileSync(`${d}/upid2`).trim(), p2);
    assert.equal(Deno.readTextFileSync(`/proc/${p2}/comm`).trim(), "sleep");
    Deno.kill(Number(p2), "SIGKILL");
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("conmon shim: the exit step claims the exit first, and leaves when a stop has it (pods7)", async () => {
  const d = await Deno.makeTempDir();
  try {
    Deno.writeTextFileSync(`${d}/code`, "3");
    const script = conmonShim(["true"], true, `${d}/upid`, {
      conmonExit: `${d}/code`,
      exitJson: `${d}/exit.json`,
      events: { path: `${d}/events.log`, head: `"ID":"abc"`, tail: `,"Type":"container","Attributes":{}}` },
      claim: `${d}/claim`,
    });
    Deno.writeTextFileSync(`${d}/shim.sh`, script);
    for (const shell of ["/bin/sh", "/bin/bash"]) {
      // claimed by a stop: nothing written, exit 0 (conmon logs a failed exit command)
      Deno.writeTextFileSync(`${d}/claim`, "");
      const o = await new Deno.Command(shell, { args: [`${d}/shim.sh`, "exit"], stderr: "piped" }).output();
      assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
      assert.equal(new TextDecoder().decode(o.stderr), "");
      assert.throws(() => Deno.statSync(`${d}/exit.json`), shell);
      assert.throws(() => Deno.statSync(`${d}/events.log`), shell);
      // not claimed: the shim claims it and records it (a record left by a last run is overwritten)
      Deno.removeSync(`${d}/claim`);
      Deno.writeTextFileSync(`${d}/exit.json`, "{}");
      const r = await sh(`${d}/shim.sh`, ["exit"]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(Deno.statSync(`${d}/claim`).isFile);
      assert.equal(JSON.parse(Deno.readTextFileSync(`${d}/exit.json`)).exitCode, 3);
      assert.equal(Deno.readTextFileSync(`${d}/events.log`).trim().split("\n").length, 2);
      Deno.removeSync(`${d}/exit.json`);
      Deno.removeSync(`${d}/events.log`);
    }
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("conmon shim: an early start's create reads its command and its spec's fifo; cancelled, it fails (pods9)", async () => {
  const d = await Deno.makeTempDir();
  try {
    const exit = { conmonExit: `${d}/code`, exitJson: `${d}/exit.json` };
    const fifos = { command: `${d}/command.fifo`, spec: `${d}/spec.fifo` };
    const mkfifos = async () => {
      for (const f of Object.values(fifos)) {
        await Deno.remove(f).catch(() => {});
        assert.ok((await new Deno.Command("mkfifo", { args: [f] }).output()).success);
      }
    };
    Deno.writeTextFileSync(`${d}/shim.sh`, conmonShim(fifos, false, `${d}/upid`, exit));
    const create = (pidFile: string) =>
      new Deno.Command("/bin/sh", {
        args: [`${d}/shim.sh`, "create", "--bundle", d, "--pid-file", pidFile, "abc"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
    // sent: the command runs with the spec fifo as its stdin (pod holds both open, as the early start does)
    await mkfifos();
    const command = Deno.openSync(fifos.command, { read: true, write: true });
    const spec = Deno.openSync(fifos.spec, { read: true, write: true });
    const c = create(`${d}/pid`);
    command.writeSync(
      new TextEncoder().encode(
        ["/bin/sh", "-c", `read -r l; printf '%s' "$l" >${shQuote(`${d}/got`)}`].map(shQuote).join(" ") +
          "\n",
      ),
    );
    assert.equal((await c.status).code, 0);
    const init = Deno.readTextFileSync(`${d}/pid`).trim();
    assert.equal(Deno.readTextFileSync(`${d}/upid`).trim(), init);
    spec.writeSync(new TextEncoder().encode("the spec\n"));
    spec.close();
    command.close();
    for (let i = 0; i < 200 && !(await Deno.stat(`${d}/got`).catch(() => undefined)); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (let i = 0; i < 200 && Deno.readTextFileSync(`${d}/got`) === ""; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(Deno.readTextFileSync(`${d}/got`), "the spec");
    // cancelled (an empty line): the create fails, nothing runs
    await mkfifos();
    const held = Deno.openSync(fifos.command, { read: true, write: true });
    const c2 = create(`${d}/pid2`);
    held.writeSync(new TextEncoder().encode("\n"));
    assert.equal((await c2.status).code, 1);
    held.close();
    // pod gone before the shim opened its fifos: EOF, the create fails at once (no open waits for a writer)
    await mkfifos();
    assert.equal((await create(`${d}/pid3`).status).code, 1);
    assert.ok(!(await Deno.stat(`${d}/pid2`).catch(() => undefined)));
    assert.ok(!(await Deno.stat(`${d}/pid3`).catch(() => undefined)));
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});
