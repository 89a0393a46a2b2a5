/**
 * Parsing human-readable sizes the way podman does (docker/go-units): a module without imports, so that
 * `create`/`run` (`--memory`, `--log-opt max-size`) parse sizes without loading the Go number formatting and
 * the time helpers lib/format/units.ts brings (issue 16: ~75 KB of modules off `run`'s path).
 * lib/format/units.ts re-exports these.
 * @module
 */

const SIZE_RE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;

function parseSize(s: string, base: number): number {
  const m = SIZE_RE.exec(s);
  if (!m) throw new Error(`invalid size: '${s}'`);
  const n = Number(m[1]);
  if (Number.isNaN(n)) throw new Error(`invalid size: '${s}'`);
  const exp = m[2] ? "kmgtp".indexOf(m[2].toLowerCase()) + 1 : 0;
  return n * base ** exp;
}

/** go-units `FromHumanSize`: `"32kb"` → 32000 (decimal). Throws on bad input. */
export function fromHumanSize(s: string): number {
  return parseSize(s, 1000);
}

/** go-units `RAMInBytes`: `"32k"`, `"1g"` → binary multiples, as podman's `--memory`. Throws on bad input. */
export function ramInBytes(s: string): number {
  return Math.trunc(parseSize(s, 1024));
}
