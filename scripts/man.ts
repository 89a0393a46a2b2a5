/**
 * Writes pod's man pages (roff) from the command definitions, the same ones `--help` prints: `pod.1`,
 * `pod-<command>.1`, `pod-<group>.1` and `pod-<group>-<sub>.1`.
 *
 *     deno task man                       # into docs/man/
 *     deno run -A scripts/man.ts --out DIR
 *     man -l docs/man/pod-run.1           # read one
 *     sudo install -m 644 docs/man/*.1 /usr/local/share/man/man1/ && sudo mandb -q   # install them
 * @module
 */

import { commands, groups } from "../lib/cli/registry.ts";
import { manPages } from "../lib/cli/docs.ts";
import { VERSION } from "../lib/version.ts";

const i = Deno.args.indexOf("--out");
const dir = i >= 0 ? Deno.args[i + 1] : new URL("../docs/man", import.meta.url).pathname;
if (!dir) {
  console.error("Error: --out needs a directory");
  Deno.exit(125);
}
await Deno.mkdir(dir, { recursive: true });
const pages = await manPages({ commands, groups }, VERSION);
for (const [name, text] of pages) await Deno.writeTextFile(`${dir}/${name}`, text);
console.log(`${pages.size} man pages in ${dir}`);
