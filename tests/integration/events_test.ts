/**
 * `pod events` against a real store, root and rootless: the log a run, a detached container (the supervisor's
 * `died`), exec, stop, rm, tag and volumes write, read back with filters, `--format`, `--since/--until`, and
 * `--stream` picking up an event appended while it follows.
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode, testRootAndRootless } from "../helpers/modes.ts";

interface Ev {
  ID?: string;
  Name?: string;
  Image?: string;
  Status: string;
  Type: string;
  Time: string;
  ContainerExitCode?: number;
  Attributes?: Record<string, string> | null;
}

function suite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    const ok = async (args: string[]) => {
      const r = await h.pod(args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    const events = async (...args: string[]): Promise<Ev[]> =>
      (await ok(["events", "--stream=false", "--format", "json", ...args])).trim().split("\n").filter(Boolean)
        .map((l) => JSON.parse(l));
    const statuses = (evs: Ev[]) => evs.map((e) => e.Status);

    await t.step("a foreground run --rm: create init start attach died cleanup remove", async () => {
      await ok(["run", "--rm", "--name", "fg", "--label", "team=a", img.ref, "sh", "-c", "exit 3"]).catch(
        () => {},
      );
      const evs = await events("--filter", "container=fg");
      assert.deepEqual(statuses(evs), ["create", "init", "start", "attach", "died", "cleanup", "remove"]);
      const died = evs.find((e) => e.Status === "died")!;
      assert.equal(died.ContainerExitCode, 3);
      assert.equal(died.Type, "container");
      assert.equal(died.Image, img.ref);
      assert.deepEqual(died.Attributes, { team: "a" });
      assert.match(died.Time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
      // the raw file is podman's shape, one object per line, fields in podman's order
      const line = (await Deno.readTextFile(`${h.home}/events/events.log`)).split("\n")
        .find((l) => l.includes('"Status":"died"'))!;
      assert.match(
        line,
        /^\{"ContainerExitCode":3,"ID":"[0-9a-f]{64}","Image":"[^"]+","Name":"fg","Status":"died",/,
      );
    });

    await t.step("detached: the supervisor writes died; exec, stop, rm", async () => {
      const id = (await ok(["run", "-d", "--name", "bg", img.ref, "sleep", "600"])).trim();
      assert.equal((await h.pod(["exec", "bg", "sh", "-c", "exit 4"])).code, 4);
      await ok(["stop", "-t", "0", "bg"]);
      await ok(["rm", "bg"]);
      const evs = await events("--filter", `container=${id.slice(0, 12)}`);
      assert.deepEqual(statuses(evs).filter((s) => s !== "cleanup"), [
        "create",
        "init",
        "start",
        "exec",
        "exec_died",
        "died",
        "stop",
        "remove",
      ]);
      assert.equal(evs.find((e) => e.Status === "exec_died")!.ContainerExitCode, 4);
      assert.equal(evs.find((e) => e.Status === "died")!.ContainerExitCode, 137);
    });

    await t.step("filters: type, event (same key OR), image, volume; default human line", async () => {
      await ok(["tag", img.ref, "localhost/other:1"]);
      await ok(["volume", "create", "evvol"]);
      await ok(["volume", "mount", "evvol"]);
      await ok(["volume", "unmount", "evvol"]);
      await ok(["volume", "rm", "evvol"]);
      const tags = await events("--filter", "type=image", "--filter", "event=tag");
      assert.equal(tags.length, 1);
      assert.equal(tags[0].Name, "localhost/other:1");
      const vols = await events("--filter", "volume=evvol");
      assert.deepEqual(statuses(vols), ["create", "mount", "unmount", "remove"]);
      const two = await events(
        "--filter",
        "event=create",
        "--filter",
        "event=remove",
        "--filter",
        "type=volume",
      );
      assert.deepEqual(statuses(two), ["create", "remove"]);
      assert.equal((await events("--filter", "image=localhost/other:1", "--filter", "type=image")).length, 1);
      const human = await ok(["events", "--stream=false", "--filter", "type=volume"]);
      assert.match(human, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \S+ volume create evvol\n/);
      const tpl = await ok([
        "events",
        "--stream=false",
        "--filter",
        "type=volume",
        "--format",
        "{{.Type}}/{{.Status}}",
      ]);
      assert.equal(tpl, "volume/create\nvolume/mount\nvolume/unmount\nvolume/remove\n");
      const bad = await h.pod(["events", "--stream=false", "--filter", "nope=1"]);
      assert.equal(bad.code, 125);
      assert.match(bad.stderr, /^Error: nope is an invalid filter\n/);
    });

    await t.step("--since/--until", async () => {
      assert.equal((await events("--since", "1h")).length > 0, true);
      assert.equal((await events("--until", "2000-01-01T00:00:00Z")).length, 0);
      const r = await h.pod(["events", "--stream=false", "--since", "yesterday-ish"]);
      assert.equal(r.code, 125);
    });

    await t.step("streaming: follows the log until --until passes", async () => {
      // --since: an event appended before the follower got going still counts; --until ends the follow on its
      // own (no signal timing), and the event made meanwhile must have been picked up from the growing file
      const since = new Date(Date.now() - 1000).toISOString();
      const until = new Date(Date.now() + 8000).toISOString();
      const p = await h.startPod([
        "events",
        "--since",
        since,
        "--until",
        until,
        "--filter",
        "volume=late",
        "--format",
        "{{.Status}} {{.Name}}",
      ]);
      await ok(["volume", "create", "late"]);
      const r = await p.done;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "create late\n");
    });
  });
}

await testRootAndRootless("events", suite);
