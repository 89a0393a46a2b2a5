/**
 * The library API's whole sequence (pull, images, run with captured output, create/start/exec/logs, list,
 * inspect, stop/kill/remove by name and id prefix, image removal, cancellation) against a store, using only
 * `mod.ts`. Run in-process by api_test.ts (root), or as a script as the rootless test user:
 * `deno run -A api_scenario.ts <store> <image ref>` prints the steps it passed as JSON.
 * @module
 */

import assert from "node:assert/strict";
import { type LogEntry, Pod, PodError, type PodEvent } from "../../mod.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function rejects(p: Promise<unknown>, code: string, exitCode?: number): Promise<PodError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PodError, `not a PodError: ${e}`);
    assert.equal(e.code, code, e.message);
    if (exitCode !== undefined) assert.equal(e.exitCode, exitCode, e.message);
    return e;
  }
  throw new assert.AssertionError({ message: `expected a ${code} PodError` });
}

/** Runs the sequence; returns the names of the steps passed (throws at the first failure). */
export async function apiScenario(root: string, ref: string): Promise<string[]> {
  const passed: string[] = [];
  const events: PodEvent[] = [];
  const pod = await Pod.open({ root, onEvent: (e) => events.push(e) });
  assert.equal(pod.root, root);

  await rejects(pod.pull(ref, { tlsVerify: false, signal: AbortSignal.abort() }), "CANCELLED");
  assert.deepEqual(await pod.images(), []);
  const img = await pod.pull(ref, { tlsVerify: false });
  assert.match(img.id, /^[0-9a-f]{64}$/);
  assert.match(img.digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(img.ref, ref);
  assert.ok(events.some((e) => e.type === "blob-done"), "pull progress reaches onEvent");
  const images = await pod.images();
  assert.deepEqual(images.map((i) => i.id), [img.id]);
  assert.deepEqual(images[0].names, [img.ref]);
  assert.ok(images[0].size > 0 && images[0].created instanceof Date);
  passed.push("pull (cancelled, then done), images");

  const r = await pod.run({
    image: img.ref,
    args: ["echo", "hi"],
    remove: true,
    stdout: "piped",
    stderr: "piped",
  });
  assert.equal(r.exitCode, 0);
  assert.equal(text(r.stdout), "hi\n");
  assert.equal(text(r.stderr), "");
  assert.deepEqual((await pod.containers({ all: true })).filter((c) => c.id === r.id), [], "removed");
  passed.push("run --rm with captured output");

  const data = await Deno.makeTempDir({ dir: root });
  await Deno.writeTextFile(`${data}/in.txt`, "from the host\n");
  await Deno.chmod(data, 0o755);
  const r2 = await pod.run({
    image: img.ref,
    args: ["sh", "-c", 'echo "$GREETING"; cat /data/in.txt; echo oops >&2; printf tail; exit 3'],
    env: { GREETING: "hello there" },
    mounts: [
      { type: "bind", source: data, destination: "/data", readonly: true },
      { type: "tmpfs", destination: "/scratch", size: "1m" },
    ],
    name: "once",
  });
  assert.equal(r2.exitCode, 3);
  assert.equal(text(r2.stdout), "hello there\nfrom the host\ntail");
  assert.equal(text(r2.stderr), "oops\n");
  assert.equal(r2.name, "once");
  const once = (await pod.containers({ all: true })).find((c) => c.name === "once");
  assert.equal(once?.status, "exited");
  assert.equal(once?.exitCode, 3);
  const logged: LogEntry[] = [];
  for await (const l of pod.logs("once")) logged.push(l);
  // in order within a stream (the two pipes are read as data arrives: no order between them)
  const of = (stream: string) => logged.filter((l) => l.stream === stream).map((l) => [l.text, l.partial]);
  assert.deepEqual(of("stdout"), [["hello there", false], ["from the host", false], ["tail", true]]);
  assert.deepEqual(of("stderr"), [["oops", false]]);
  assert.ok(logged.every((l) => l.time instanceof Date && !Number.isNaN(l.time.getTime())));
  await pod.remove(r2.id.slice(0, 12)); // by id prefix
  await rejects(
    pod.run({ image: img.ref, args: ["no-such-command"], remove: true }),
    "COMMAND_NOT_FOUND",
    127,
  );
  passed.push("run: env, mounts, exit code, stderr, logs records, remove by id prefix, 127");

  const c = await pod.create({ image: img.ref, args: ["sh", "-c", "echo up; sleep 1000"], name: "web" });
  assert.match(c.id, /^[0-9a-f]{64}$/);
  assert.equal(c.name, "web");
  assert.equal((await pod.inspect("web")).State.Status, "created");
  await rejects(pod.create({ image: img.ref, name: "web" }), "EXISTS");
  await pod.start("web");
  const e = await pod.exec("web", ["cat", "/etc/hostname"], { stdout: "piped" });
  assert.equal(e.exitCode, 0);
  assert.equal(text(e.stdout), `${c.id.slice(0, 12)}\n`);
  const e2 = await pod.exec(c.id, ["sh", "-c", 'echo "$X" >&2; cat; exit 5'], {
    env: { X: "y" },
    stdin: new TextEncoder().encode("input"),
  });
  assert.deepEqual([e2.exitCode, text(e2.stdout), text(e2.stderr)], [5, "input", "y\n"]);
  await rejects(pod.exec("web", ["nope"]), "COMMAND_NOT_FOUND", 127);
  let up: LogEntry | undefined;
  for (let i = 0; i < 100 && !up; i++) {
    for await (const l of pod.logs("web")) if (l.text === "up") up = l;
    if (!up) await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(up?.stream, "stdout");
  assert.ok(up!.time.getTime() > Date.now() - 60_000);
  passed.push("create, start, exec (captured, stdin, 127), logs");

  const list = await pod.containers();
  const web = list.find((x) => x.name === "web");
  assert.equal(web?.status, "running");
  assert.equal(web?.imageId, img.id);
  assert.ok((web?.pid ?? 0) > 0);
  assert.deepEqual(web?.command, ["sh", "-c", "echo up; sleep 1000"]);
  const info = await pod.inspect("web");
  assert.equal(info.Id, c.id);
  assert.equal(info.Name, "web");
  assert.equal(info.State.Running, true);
  assert.equal(info.Image, img.id);
  assert.deepEqual(info.Config.Cmd, ["sh", "-c", "echo up; sleep 1000"]);
  await rejects(pod.remove("web"), "STATE");
  await rejects(pod.inspect("nothing-here"), "NOT_FOUND");
  passed.push("containers, inspect, remove refused while running");

  await pod.stop("web", { timeout: 1 });
  const stopped = await pod.inspect(c.id.slice(0, 10));
  assert.equal(stopped.State.Status, "exited");
  await rejects(pod.kill("web"), "STATE");
  await pod.start(c.id);
  await pod.kill("web", "SIGKILL");
  assert.equal(await pod.wait("web"), 137);
  await pod.start("web");
  await pod.remove("web", { force: true, timeout: 0 });
  await rejects(pod.inspect("web"), "NOT_FOUND");
  passed.push("stop, kill, wait, remove --force");

  const ac = new AbortController();
  setTimeout(() => ac.abort(), 300);
  const t0 = Date.now();
  await rejects(
    pod.run({ image: img.ref, args: ["sleep", "100"], name: "cancelled", remove: true, signal: ac.signal }),
    "CANCELLED",
  );
  assert.ok(Date.now() - t0 < 30_000);
  await rejects(pod.inspect("cancelled"), "NOT_FOUND");
  passed.push("run cancelled by an AbortSignal");

  await pod.create({ image: img.ref, args: ["true"], name: "user" });
  const inUse = await rejects(pod.removeImage(img.ref), "IN_USE", 2);
  assert.match(inUse.message, /in use/);
  await pod.remove("user");
  const removed = await pod.removeImage(img.ref);
  assert.deepEqual(removed, { untagged: [img.ref], deleted: img.id });
  assert.deepEqual(await pod.images(), []);
  await rejects(pod.removeImage(img.ref), "NOT_FOUND", 1);
  passed.push("removeImage: IN_USE, removed, NOT_FOUND");

  // `sh` as pid 1 ignores SIGTERM: stop's warning reached onEvent (and nothing was printed)
  const warnings = events.filter((e) => e.type === "warning").map((e) => "message" in e ? e.message : "");
  assert.ok(warnings.some((m) => /resorting to SIGKILL/.test(m)), JSON.stringify(warnings));
  return passed;
}

if (import.meta.main) {
  const [root, ref] = Deno.args;
  console.log(JSON.stringify(await apiScenario(root, ref)));
}
