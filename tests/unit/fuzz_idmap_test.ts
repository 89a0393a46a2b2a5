/**
 * Fuzzing `/etc/subuid` parsing and the id maps built from it (`lib/ns/idmap.ts`), seeded and bounded in time:
 * random and damaged files never throw, only well-formed lines of the user count, and the default and keep-id
 * maps built from whatever is accepted are consistent (no overlapping container ranges, every mapped id maps
 * back, sizes positive, ids below 2^32).
 */
import assert from "node:assert/strict";
import { defaultMap, keepIdMap, parseSubIds, toContainer, toHost } from "../../lib/ns/idmap.ts";
import { seededRandom as rng } from "../helpers/fixtures.ts";

const SEED = Number(Deno.env.get("POD_FUZZ_SEED") ?? 4242);
const BUDGET_MS = 2500; // a time budget, but the loop below never stops short of its minimum (a loaded CI machine)

const WHO = ["podtest", "1000", "root", "", "podtest2", " podtest", "#podtest"];
const NUM = [
  "100000",
  "65536",
  "0",
  "-1",
  "4294967295",
  "4294967296",
  "1e5",
  "0x10",
  "",
  " 1",
  "99999999999999999999",
];

function line(r: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const k = r();
  if (k < 0.1) return "# comment";
  if (k < 0.15) return "";
  if (k < 0.25) return pick(WHO) + ":" + pick(NUM);
  if (k < 0.3) return pick(WHO) + ":" + pick(NUM) + ":" + pick(NUM) + ":" + pick(NUM);
  if (k < 0.35) return String.fromCharCode(...Array.from({ length: 20 }, () => Math.floor(r() * 128)));
  return `${pick(WHO)}:${pick(NUM)}:${pick(NUM)}`;
}

/** The reference reading of one line, independent of the implementation. */
function expected(l: string): { start: number; count: number } | undefined {
  const parts = l.trim().split(":");
  if (l.trim().startsWith("#") || parts.length !== 3) return undefined;
  const [who, s, c] = parts;
  if (who !== "podtest" && who !== "1000") return undefined;
  if (!/^\d+$/.test(s) || !/^\d+$/.test(c)) return undefined;
  const start = Number(s), count = Number(c);
  if (count <= 0 || start + count > 0xffffffff) return undefined;
  return { start, count };
}

Deno.test("fuzz subuid: random files never throw; accepted ranges and maps are consistent", () => {
  const r = rng(SEED);
  const end = Date.now() + BUDGET_MS;
  let n = 0, accepted = 0;
  while ((Date.now() < end || n <= 200) && n < 20_000) {
    const lines = Array.from({ length: Math.floor(r() * 8) }, () => line(r));
    const text = lines.join(r() < 0.2 ? "\r\n" : "\n");
    const ranges = parseSubIds(text, "podtest", 1000);
    const want = lines.map(expected).filter((x) => x !== undefined);
    assert.deepEqual(ranges, want, `for ${JSON.stringify(text)}`);
    accepted += ranges.length;
    for (const rg of ranges) {
      assert.ok(Number.isSafeInteger(rg.start) && rg.start >= 0 && rg.count > 0);
      assert.ok(rg.start + rg.count <= 0xffffffff);
    }
    for (
      const maps of [defaultMap(1000, ranges), keepIdMap(1000, 1000, ranges), keepIdMap(1000, 5, ranges)]
    ) {
      const sorted = [...maps].sort((a, b) => a.containerId - b.containerId);
      for (let i = 0; i < sorted.length; i++) {
        const m = sorted[i];
        assert.ok(m.size > 0, `empty mapping in ${JSON.stringify(maps)}`);
        if (i > 0) {
          const p = sorted[i - 1];
          assert.ok(
            p.containerId + p.size <= m.containerId,
            `overlapping container ranges ${JSON.stringify(maps)}`,
          );
        }
        assert.equal(toHost(maps, m.containerId), m.hostId);
        assert.equal(toHost(maps, m.containerId + m.size - 1), m.hostId + m.size - 1);
      }
    }
    assert.equal(toContainer(defaultMap(1000, ranges), 1000), 0, "container root is the user");
    const keep = keepIdMap(1000, 1000, ranges);
    assert.equal(toHost(keep, 1000), 1000, "keep-id maps the user to itself");
    n++;
  }
  assert.ok(n > 200, `only ${n} iterations`);
  assert.ok(accepted > 0, "some lines were accepted");
});
