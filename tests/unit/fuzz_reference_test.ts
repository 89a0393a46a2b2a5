/**
 * Fuzzing the image-reference parser (`lib/oci/reference.ts`), seeded and bounded in time: random strings over
 * the characters references are made of only ever give a value or a plain `Error` with a message (never a
 * TypeError/RangeError, never a hang), and every valid reference — random or generated from the grammar —
 * round-trips: `parseReference(r.toString())` gives the same parts and the same string.
 */
import assert from "node:assert/strict";
import { parseReference } from "../../lib/oci/reference.ts";
import { seededRandom as rng } from "../helpers/fixtures.ts";

const SEED = Number(Deno.env.get("POD_FUZZ_SEED") ?? 20241123);
const BUDGET_MS = 2500; // a time budget, but the loop below never stops short of its minimum (a loaded CI machine)

const ALPHABET = "abcz09AZ-_.:/@#+ %\u00e9\u0000\n";
const HEX = "0123456789abcdef";

function randomString(r: () => number): string {
  const n = Math.floor(r() * 40);
  let s = "";
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

function pick<T>(r: () => number, xs: T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function component(r: () => number, noDot = false): string {
  // without a registry part, a first component with a "." would be read as a domain name
  const seps = noDot ? ["_", "__", "-", "--"] : [".", "_", "__", "-", "--"];
  let s = pick(r, ["a", "b9", "busybox", "x"]);
  const more = Math.floor(r() * 3);
  for (let i = 0; i < more; i++) s += pick(r, seps) + pick(r, ["c", "1", "lib"]);
  return s;
}

/** A reference from the distribution grammar (always valid). */
function validRef(r: () => number): string {
  let s = "";
  const reg = Math.floor(r() * 4);
  if (reg === 1) s += "quay.io/";
  else if (reg === 2) s += `127.0.0.1:${1 + Math.floor(r() * 65534)}/`;
  else if (reg === 3) s += "localhost/";
  const comps = 1 + Math.floor(r() * 3);
  s += Array.from({ length: comps }, (_, i) => component(r, reg === 0 && i === 0)).join("/");
  const t = Math.floor(r() * 3);
  if (t !== 1) s += ":" + pick(r, ["latest", "1.36", "v2_x-y", "A"]);
  if (t !== 0) s += "@sha256:" + Array.from({ length: 64 }, () => HEX[Math.floor(r() * 16)]).join("");
  return s;
}

function checkOutcome(input: string): boolean {
  let ref;
  try {
    ref = parseReference(input);
  } catch (e) {
    assert.ok(e instanceof Error, `non-Error thrown for ${JSON.stringify(input)}`);
    assert.ok(
      !(e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError),
      `${(e as Error).name} for ${JSON.stringify(input)}: ${(e as Error).message}`,
    );
    assert.ok((e as Error).message.length > 0);
    return false;
  }
  const s = ref.toString();
  const again = parseReference(s);
  assert.equal(again.toString(), s, `round trip of ${JSON.stringify(input)}`);
  assert.deepEqual(
    [again.registry, again.repository, again.tag, again.digest],
    [ref.registry, ref.repository, ref.tag, ref.digest],
  );
  assert.ok(ref.registry.length > 0 && ref.repository.length > 0);
  return true;
}

Deno.test("fuzz reference: random strings give a value or a clean Error; valid ones round-trip", () => {
  const r = rng(SEED);
  const end = Date.now() + BUDGET_MS / 2;
  let n = 0, ok = 0;
  while ((Date.now() < end || n <= 1000) && n < 200_000) {
    if (checkOutcome(randomString(r))) ok++;
    n++;
  }
  assert.ok(n > 1000, `only ${n} iterations`);
  assert.ok(ok > 0, "some random strings are valid references");
});

Deno.test("fuzz reference: grammar-generated references parse and round-trip; mutations stay clean", () => {
  const r = rng(SEED + 1);
  const end = Date.now() + BUDGET_MS / 2;
  let n = 0;
  while ((Date.now() < end || n <= 500) && n < 100_000) {
    const s = validRef(r);
    assert.ok(checkOutcome(s), `valid reference rejected: ${s}`);
    // one-character mutations of a valid reference
    const i = Math.floor(r() * s.length);
    const c = ALPHABET[Math.floor(r() * ALPHABET.length)];
    checkOutcome(s.slice(0, i) + c + s.slice(i + 1));
    checkOutcome(s.slice(0, i) + s.slice(i + 1));
    n++;
  }
  assert.ok(n > 500, `only ${n} iterations`);
  // long input stays bounded and clean
  checkOutcome("a".repeat(100_000));
  checkOutcome("a/".repeat(50_000) + "b");
});
