/** `volume ls/prune --filter`, `-o`/`--label` values and `--volumes-from` specs. */
import assert from "node:assert/strict";
import { parseVolumeFilters, type VolumeFacts } from "../../lib/volume/filters.ts";
import { parseVolumesFrom } from "../../lib/container/volumes_from.ts";
import { keyValues } from "../../lib/cli/commands/volume_create.ts";
import { PodError } from "../../lib/errors.ts";

const now = Date.parse("2026-01-10T00:00:00Z");
const vol = (o: Partial<VolumeFacts>): VolumeFacts => ({
  name: "v",
  driver: "local",
  labels: {},
  options: {},
  created: new Date(now - 3600_000),
  users: 0,
  ...o,
});

Deno.test("volume filters: name, label, label!, driver, dangling, opt", () => {
  const f = (vals: string[], v: Partial<VolumeFacts>) => parseVolumeFilters(vals, "ls", now)(vol(v));
  assert.equal(f([], {}), true);
  assert.equal(f(["name=data"], { name: "data" }), true);
  assert.equal(f(["name=^da"], { name: "data" }), true);
  assert.equal(f(["name=^da"], { name: "other" }), false);
  assert.equal(f(["name=a", "name=b"], { name: "b" }), true, "same key: OR");
  assert.equal(f(["label=team"], { labels: { team: "x" } }), true);
  assert.equal(f(["label=team=x"], { labels: { team: "y" } }), false);
  assert.equal(f(["label!=team=x"], { labels: { team: "x" } }), false);
  assert.equal(f(["label!=team=x"], { labels: {} }), true);
  assert.equal(f(["label=a", "driver=local"], { labels: { a: "" } }), true, "different keys: AND");
  assert.equal(f(["label=a", "driver=nfs"], { labels: { a: "" } }), false);
  assert.equal(f(["dangling=true"], { users: 0 }), true);
  assert.equal(f(["dangling=true"], { users: 1 }), false);
  assert.equal(f(["dangling=false"], { users: 2 }), true);
  assert.equal(f(["opt=type=tmpfs"], { options: { type: "tmpfs" } }), true);
  assert.equal(f(["until=30m"], {}), true, "made an hour ago: before 30 minutes ago");
  assert.equal(f(["until=2h"], {}), false);
  assert.equal(f(["until=2026-01-09T00:00:00Z"], {}), false);
});

Deno.test("volume filters: bad keys and values are usage errors (exit 125)", () => {
  for (
    const [vals, kind] of [
      [["colour=red"], "ls"],
      [["dangling=maybe"], "ls"],
      [["noequals"], "ls"],
      [["name=("], "ls"],
      [["name=x"], "prune"],
      [["until=yesterday"], "prune"],
    ] as const
  ) {
    assert.throws(
      () => parseVolumeFilters([...vals], kind, now),
      (e) => e instanceof PodError && e.exitCode === 125,
    );
  }
  assert.equal(parseVolumeFilters(["label=k"], "prune", now)(vol({ labels: { k: "1" } })), true);
});

Deno.test("volume create: --label and -o values", () => {
  assert.deepEqual(keyValues(["a=b", "c", "d=e=f"], "label", false), { a: "b", c: "", "d": "e=f" });
  assert.throws(() => keyValues(["size"], "option", true), PodError);
  assert.throws(() => keyValues(["=x"], "label", false), PodError);
});

Deno.test("--volumes-from specs", () => {
  assert.deepEqual(parseVolumesFrom("web"), { container: "web" });
  assert.deepEqual(parseVolumesFrom("web:ro"), { container: "web", readonly: true });
  assert.deepEqual(parseVolumesFrom("web:rw,z"), { container: "web", readonly: false });
  assert.throws(() => parseVolumesFrom("web:ro,rw"), PodError);
  assert.throws(() => parseVolumesFrom("web:bogus"), PodError);
  assert.throws(() => parseVolumesFrom(":ro"), PodError);
});
