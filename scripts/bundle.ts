/**
 * `deno task bundle`: the one-file build, `dist/pod.js` (`deno run -A dist/pod.js ps`), with each command in a
 * chunk of its own beside it that is loaded only when that command runs, as from the checkout.
 *
 *     deno run -A scripts/bundle.ts [--outdir dist]
 *
 * `deno bundle --code-splitting` writes the entry (`cli.js`, renamed `main.js`) and the chunks. Deno loads every
 * module a literal `import("./x.js")` names before the program starts, unless run with
 * `--unstable-lazy-dynamic-imports` (which a user of `dist/pod.js`, or stage 2 started from it with
 * `--no-config`, does not pass). So the chunks' dynamic imports are rewritten to `import(String("./x.js"))`: an
 * expression, loaded when it runs.
 *
 * `exec` is the hot path: its code is spread over chunks it shares with other commands (~20 files to load).
 * So lib/cli/exec_main.ts is bundled apart into `exec/` (its entry holds all it imports statically; chunks
 * only for what it loads on demand), and `pod.js` is a few lines that send `pod exec …` there and everything
 * else to `main.js` (`import.meta.main` of main.js, no longer the main module, is made `true`).
 *
 * A plain `pod exec CONTAINER COMMAND…` (no option) of a container with an exec plan loads one file more
 * still: `exec_plain.js`, lib/cli/exec_plain_main.ts and what it imports bundled without chunks (~9 KB),
 * tried first; it hands the process over to the compiled helper, else returns (having started nothing), and
 * the exec bundle runs the exec.
 * That file is minified (the only one: the others keep their names for stack traces).
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

/**
 * `pod.js`: `pod exec CONTAINER COMMAND…` to the one-file plain exec (it exits when it ran the command from
 * the container's plan), then `pod exec …` to the exec bundle, anything else to the whole CLI.
 */
const LAUNCHER = `// pod's one-file build (scripts/bundle.ts): exec has a bundle of its own
const args = Deno.args;
if (args[0] === "exec") {
  // the plain shape (a container and a command, no option) tries the handoff first
  if (args.length > 2 && !args[1].startsWith("-")) {
    await (await import(String("./exec_plain.js"))).execPlain(args.slice(1));
  }
  await (await import(String("./exec/exec_main.js"))).execMain(args.slice(1));
} else await import(String("./main.js"));
`;

async function denoBundle(args: string[], split = true): Promise<void> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", ...split ? ["--code-splitting"] : [], "--platform", "deno", ...args],
    cwd: REPO,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!o.success) throw new Error(`deno bundle failed (exit ${o.code})`);
}

/** Makes the dynamic imports of every `.js` file in `dir` lazy; returns the file and import counts. */
async function deferAll(dir: string): Promise<{ files: number; imports: number }> {
  let files = 0, imports = 0;
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.endsWith(".js")) continue;
    const path = `${dir}/${e.name}`;
    const { code, count } = deferImports(await Deno.readTextFile(path));
    if (count) await Deno.writeTextFile(path, code);
    files++;
    imports += count;
  }
  return { files, imports };
}

/** Bundles `cli.ts` into `outdir` (relative to the repository, emptied first). */
export async function bundle(outdir: string): Promise<void> {
  const dir = outdir.startsWith("/") ? outdir : `${REPO}${outdir}`;
  await Deno.remove(dir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  await denoBundle(["--outdir", dir, "cli.ts"]);
  await denoBundle(["--outdir", `${dir}/exec`, "lib/cli/exec_main.ts"]);
  // minified: the plain exec compiles this whole file before its `execve` (34 KB as written with the spawn way,
  // 18 KB minified, 9 KB minified with the handoff alone; loading the 18 KB cost ~5 ms in-process here)
  await denoBundle(["--minify", "--output", `${dir}/exec_plain.js`, "lib/cli/exec_plain_main.ts"], false);
  const main = await Deno.readTextFile(`${dir}/cli.js`);
  const marks = main.split("import.meta.main").length - 1;
  if (marks !== 1) throw new Error(`cli.js: expected one import.meta.main, found ${marks}`);
  await Deno.writeTextFile(`${dir}/main.js`, main.replace("import.meta.main", "true"));
  await Deno.remove(`${dir}/cli.js`);
  await Deno.writeTextFile(`${dir}/pod.js`, LAUNCHER);
  const all = await deferAll(dir);
  const exec = await deferAll(`${dir}/exec`);
  console.log(
    `${dir}/pod.js: ${all.files} files, ${all.imports} lazy imports; exec/: ${exec.files} files, ` +
      `${exec.imports} lazy imports`,
  );
}

if (import.meta.main) await bundle(argStr("outdir", "dist"));
