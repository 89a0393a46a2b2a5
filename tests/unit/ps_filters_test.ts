/** `ps --filter` keys pod adds (before, since, network, restart-policy, health, pod) and `rm --depend`'s order. */
import assert from "node:assert/strict";
import { dependentsOf, filterContainers, parseContainerFilters } from "../../lib/container/ps.ts";
import type { ContainerRecord } from "../../lib/store/containers.ts";
import { UsageError } from "../../lib/errors.ts";

function rec(
  name: string,
  created: string,
  extra: Record<string, unknown> = {},
  net = "private",
): ContainerRecord {
  return {
    config: {
      id: name.padEnd(64, "0"),
      name,
      created,
      labels: {},
      mounts: [],
      image: { name: "busybox", id: "f".repeat(64) },
      process: { args: ["true"] },
      namespaces: { pid: "private", ipc: "private", uts: "private", net },
      ...extra,
    },
    state: { status: "created", pid: 0, startedAt: "", finishedAt: "", exitCode: 0 },
    dir: "",
  } as unknown as ContainerRecord;
}

const a = rec("a", "2026-01-01T00:00:01Z");
const b = rec("b", "2026-01-01T00:00:02Z", { restartPolicy: { name: "always" } }, "host");
const c = rec("c", "2026-01-01T00:00:03Z", { pod: "p".repeat(64) }, `container:${"a".padEnd(64, "0")}`);
const d = rec("d", "2026-01-01T00:00:04Z", {}, `container:${"c".padEnd(64, "0")}`);
const all = [d, c, b, a];
const names = (f: string[]) => filterContainers(all, parseContainerFilters(f), all).map((r) => r.config.name);

Deno.test("ps filters: before/since by a container's creation, network, restart-policy, pod", () => {
  assert.deepEqual(names(["before=c"]), ["b", "a"]);
  assert.deepEqual(names(["since=b"]), ["d", "c"]);
  assert.deepEqual(names(["since=b", "before=d"]), ["c"]);
  assert.deepEqual(names(["network=host"]), ["b"]);
  assert.deepEqual(names(["restart-policy=always"]), ["b"]);
  assert.deepEqual(names(["restart-policy=no"]), ["d", "c", "a"]);
  assert.deepEqual(names(["pod=ppp"]), ["c"]);
  assert.deepEqual(names(["health=none"]), ["d", "c", "b", "a"]);
  assert.deepEqual(names(["health=healthy"]), []);
  assert.throws(() => names(["before=zzz"]), UsageError);
  assert.throws(() => names(["restart-policy=maybe"]), UsageError);
  assert.throws(() => names(["health=great"]), UsageError);
  assert.throws(() => names(["bogus=1"]), UsageError);
  assert.throws(() => parseContainerFilters(["name"]), /bad format/);
});

Deno.test("rm --depend: dependents of dependents first", () => {
  assert.deepEqual(dependentsOf(all, a.config.id), [d.config.id, c.config.id]);
  assert.deepEqual(dependentsOf(all, b.config.id), []);
});
