import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { defaultMap, keepIdMap, mapArgs, parseSubIds, toContainer, toHost } from "../../lib/ns/idmap.ts";
import { parseUtilLinuxVersion } from "../../lib/ns/helpers_check.ts";

const SUBUID = `# comment
alice:100000:65536

bob:200000:1000
1001:300000:10
alice:400000:5
broken line
alice:x:5
alice:1:0
alice:500000
`;

Deno.test("parseSubIds: several ranges, names and numeric ids, junk ignored", () => {
  assertEquals(parseSubIds(SUBUID, "alice", 1000), [{ start: 100000, count: 65536 }, {
    start: 400000,
    count: 5,
  }]);
  assertEquals(parseSubIds(SUBUID, "carol", 1001), [{ start: 300000, count: 10 }]);
  assertEquals(parseSubIds(SUBUID, "nobody", 5), []);
});

Deno.test("defaultMap: 0 → user, 1.. → ranges in order", () => {
  const m = defaultMap(1000, [{ start: 100000, count: 65536 }, { start: 400000, count: 5 }]);
  assertEquals(m, [
    { containerId: 0, hostId: 1000, size: 1 },
    { containerId: 1, hostId: 100000, size: 65536 },
    { containerId: 65537, hostId: 400000, size: 5 },
  ]);
  assertEquals(mapArgs(m.slice(0, 2)), ["0", "1000", "1", "1", "100000", "65536"]);
  assertEquals(toHost(m, 0), 1000);
  assertEquals(toHost(m, 1), 100000);
  assertEquals(toHost(m, 65537), 400000);
  assertEquals(toHost(m, 65542), undefined);
  assertEquals(toContainer(m, 100001), 2);
  assertEquals(defaultMap(1000, []), [{ containerId: 0, hostId: 1000, size: 1 }]);
});

Deno.test("keepIdMap: the user keeps its id, the rest comes from the sub-ids", () => {
  const m = keepIdMap(1001, 1001, [{ start: 100000, count: 65536 }]);
  assertEquals(m, [
    { containerId: 0, hostId: 100000, size: 1001 },
    { containerId: 1001, hostId: 1001, size: 1 },
    { containerId: 1002, hostId: 101001, size: 64535 },
  ]);
  assertEquals(toHost(m, 0), 100000);
  assertEquals(toHost(m, 1001), 1001);
  assertEquals(toHost(m, 1002), 101001);
  assertEquals(keepIdMap(1001, 1001, []), [{ containerId: 1001, hostId: 1001, size: 1 }]);
  const split = keepIdMap(5, 5, [{ start: 100, count: 3 }, { start: 200, count: 10 }]);
  assertEquals(split, [
    { containerId: 0, hostId: 100, size: 3 },
    { containerId: 3, hostId: 200, size: 2 },
    { containerId: 5, hostId: 5, size: 1 },
    { containerId: 6, hostId: 202, size: 8 },
  ]);
});

Deno.test("parseUtilLinuxVersion", () => {
  assertEquals(parseUtilLinuxVersion("nsenter from util-linux 2.38.1\n"), [2, 38]);
  assertEquals(parseUtilLinuxVersion("nope"), undefined);
});
