/**
 * `deno task bundle`: the one-file build, `dist/pod.js` (`deno run -A dist/pod.js ps`), with each command in a
 * chunk of its own beside it that is loaded only when that command runs, as from the checkout.
 *
 *     deno run -A scripts/bundle.ts [--outdir dist]
 *
 * `deno bundle --code-splitting` writes the entry (`cli.js`, renamed `pod.js`) and the chunks. Deno loads every
 * module a literal `import("./x.js")` names before the program starts, unless run with
 * `--unstable-lazy-dynamic-imports` (which a user of `dist/pod.js`, or stage 2 started from it with
 * `--no-config`, does not pass). So the chunks' dynamic imports are rewritten to `import(String("./x.js"))`: an
 * expression, loaded when it runs.
 * @module
 */

const REPO = new URL("../", import.meta.url).pathname;

function argStr(name: string, def: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : def;
}

/** A literal dynamic import of a sibling chunk, as the bundler writes it. */
const LITERAL_IMPORT = /\bimport\(\s*"(\.\/[\w.-]+\.js)"\s*\)/g;

/** `src` with every literal dynamic import of a chunk made an expression; and how many there were. */
export function deferImports(src: string): { code: string; count: number } {
  let count = 0;
  const code = src.replace(LITERAL_IMPORT, (_, path: string) => {
    count++;
    return `import(String(${JSON.stringify(path)}))`;
  });
  return { code, count };
}

/** Bundles `cli.ts` into `outdir` (relative to the repository, emptied first). */
export async function bundle(outdir: string): Promise<void> {
  const dir = outdir.startsWith("/") ? outdir : `${REPO}${outdir}`;
  await Deno.remove(dir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--code-splitting", "--platform", "deno", "--outdir", dir, "cli.ts"],
    cwd: REPO,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!o.success) throw new Error(`deno bundle failed (exit ${o.code})`);
  await Deno.rename(`${dir}/cli.js`, `${dir}/pod.js`);
  let files = 0, imports = 0;
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.endsWith(".js")) continue;
    const path = `${dir}/${e.name}`;
    const { code, count } = deferImports(await Deno.readTextFile(path));
    if (count) await Deno.writeTextFile(path, code);
    files++;
    imports += count;
  }
  console.log(`${dir}/pod.js: ${files} files, ${imports} lazy imports`);
}

if (import.meta.main) await bundle(argStr("outdir", "dist"));
