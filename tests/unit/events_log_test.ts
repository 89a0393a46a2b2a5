/** The event log's line shape (podman's field order, RFC3339Nano) and `events --filter` matching. */
import assert from "node:assert/strict";
import { containerEvent, eventLine, parseEventLine, rfc3339Nano } from "../../lib/store/events.ts";
import { eventMatches, parseEventFilters } from "../../lib/store/events_query.ts";
import { eventHuman, goTimeString } from "../../lib/cli/views/events.ts";
import { UsageError } from "../../lib/errors.ts";

const rec = {
  config: {
    id: "a".repeat(64),
    name: "web",
    image: { ref: "docker.io/library/busybox:latest", name: "busybox" },
    labels: { team: "x" },
  },
};

Deno.test("eventLine: podman's field order, zero exit code and empty fields omitted", () => {
  const died = eventLine({ ...containerEvent(rec, "died", { exitCode: 2 }), Time: "2026-01-02T03:04:05.5Z" });
  assert.equal(
    died,
    `{"ContainerExitCode":2,"ID":"${
      "a".repeat(64)
    }","Image":"docker.io/library/busybox:latest","Name":"web",` +
      `"Status":"died","Time":"2026-01-02T03:04:05.5Z","Type":"container","Attributes":{"team":"x"}}\n`,
  );
  const ok = eventLine({ ...containerEvent(rec, "died", { exitCode: 0 }), Time: "t" });
  assert.ok(!ok.includes("ContainerExitCode"));
  assert.equal(
    eventLine({ Name: "v", Status: "create", Type: "volume", Time: "t" }),
    `{"Name":"v","Status":"create","Time":"t","Type":"volume","Attributes":null}\n`,
  );
  assert.deepEqual(parseEventLine(died)?.Status, "died");
  assert.equal(parseEventLine('{"Status":"x"'), undefined);
});

Deno.test("rfc3339Nano cuts the fraction's trailing zeros like Go", () => {
  const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 120);
  assert.equal(rfc3339Nano(ms), "2026-01-02T03:04:05.12Z");
  assert.equal(rfc3339Nano(ms, 3400), "2026-01-02T03:04:05.1200034Z");
  assert.equal(rfc3339Nano(Date.UTC(2026, 0, 2, 3, 4, 5)), "2026-01-02T03:04:05Z");
});

Deno.test("event filters: same key OR, different keys AND; bad keys and types refused", () => {
  const start = { ...containerEvent(rec, "start"), Time: "2026-01-02T03:04:05Z" };
  const vol = { Name: "v1", Status: "create", Type: "volume" as const, Time: "2026-01-02T03:04:06Z" };
  const m = (f: string[], e: typeof start | typeof vol, since?: number, until?: number) =>
    eventMatches(e, parseEventFilters(f), since, until);
  assert.ok(m(["container=web"], start));
  assert.ok(m(["container=aaaa"], start));
  assert.ok(!m(["container=v1"], vol));
  assert.ok(m(["event=stop", "event=start"], start));
  assert.ok(!m(["event=start", "type=volume"], start));
  assert.ok(m(["image=busybox"], start));
  assert.ok(m(["image=busybox:latest"], start));
  assert.ok(!m(["image=alpine"], start));
  assert.ok(m(["label=team=x"], start));
  assert.ok(m(["label=team"], start));
  assert.ok(!m(["label=team=y"], start));
  assert.ok(m(["volume=v1"], vol));
  assert.ok(m(["status=create"], vol));
  assert.ok(m([], vol, Date.UTC(2026, 0, 2, 3, 4, 6)));
  assert.ok(!m([], vol, undefined, Date.UTC(2026, 0, 2, 3, 4, 5)));
  assert.throws(() => parseEventFilters(["nope=1"]), UsageError);
  assert.throws(() => parseEventFilters(["type=cheese"]), /cheese is an invalid event type/);
  assert.throws(() => parseEventFilters(["container"]), /container is an invalid filter/);
});

const utc = new Date().getTimezoneOffset() === 0;
if (!utc) console.log("ignored: the human-line test needs a UTC local zone (TZ=UTC)");
Deno.test({ name: "the human line is podman's ToHumanReadable", ignore: !utc }, () => {
  assert.equal(goTimeString("2026-01-02T03:04:05.120Z"), "2026-01-02 03:04:05.12 +0000 UTC");
  const start = { ...containerEvent(rec, "start"), Time: "2026-01-02T03:04:05Z" };
  assert.equal(
    eventHuman(start, true),
    "2026-01-02 03:04:05 +0000 UTC container start aaaaaaaaaaaa (image=docker.io/library/busybox:latest, " +
      "name=web, team=x)",
  );
  assert.equal(
    eventHuman({
      ID: "b".repeat(64),
      Name: "x:1",
      Status: "tag",
      Type: "image",
      Time: "2026-01-02T03:04:05Z",
    }, false),
    `2026-01-02 03:04:05 +0000 UTC image tag ${"b".repeat(64)} x:1`,
  );
});

Deno.test("a full log is rotated to events.log.1 and read back whole, in order", async () => {
  const { writeEvents, eventsLogPath } = await import("../../lib/store/events.ts");
  const { readEvents } = await import("../../lib/store/events_query.ts");
  const root = await Deno.makeTempDir();
  Deno.env.set("POD_EVENTS_MAX_SIZE", "400");
  try {
    for (let i = 0; i < 6; i++) writeEvents(root, { Name: `v${i}`, Status: "create", Type: "volume" });
    const rotated = await Deno.readTextFile(`${eventsLogPath(root)}.1`);
    const current = await Deno.readTextFile(eventsLogPath(root));
    assert.ok(rotated.length <= 400 && current.length <= 400);
    const names: string[] = [];
    for await (const e of readEvents(root)) names.push(e.Name!);
    // one rotation keeps the newest lines: what fell off is the oldest ones
    assert.deepEqual(names, names.slice().sort());
    assert.equal(names.at(-1), "v5");
    assert.ok(names.length >= 4, names.join(" "));
  } finally {
    Deno.env.delete("POD_EVENTS_MAX_SIZE");
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("concurrent writers (separate processes) never interleave lines", async () => {
  const { eventsLogPath } = await import("../../lib/store/events.ts");
  const { readEvents } = await import("../../lib/store/events_query.ts");
  const root = await Deno.makeTempDir();
  const mod = new URL("../../lib/store/events.ts", import.meta.url).href;
  const writer = (w: number) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { writeEvents } from "${mod}";
         const attrs = { pad: "x".repeat(2000) };
         for (let i = 0; i < 150; i++) {
           writeEvents(${
          JSON.stringify(root)
        }, { ID: "w${w}-" + i, Name: "c", Status: "start", Type: "container", Attributes: attrs });
         }`,
      ],
      env: { DENO_NO_UPDATE_CHECK: "1", POD_EVENTS_MAX_SIZE: String(1 << 30) },
      stdout: "null",
      stderr: "piped",
    }).output();
  try {
    const outs = await Promise.all([0, 1, 2, 3].map(writer));
    for (const o of outs) assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
    const text = await Deno.readTextFile(eventsLogPath(root));
    const lines = text.split("\n").filter(Boolean);
    assert.equal(lines.length, 600);
    for (const l of lines) assert.ok(parseEventLine(l), l.slice(0, 80));
    const seen = new Set<string>();
    for await (const e of readEvents(root)) seen.add(e.ID!);
    assert.equal(seen.size, 600);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
