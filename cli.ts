/**
 * pod's command-line entry: `deno run -A cli.ts <command> [options] [args]`.
 *
 * A dispatcher that imports nothing statically (each module loaded from the checkout costs ~0.5 ms):
 * - a plain `pod [--root DIR] exec CONTAINER COMMAND…` (no option of exec's) goes first to
 *   lib/cli/exec_plain_main.ts, which runs it from the container's exec plan and exits (with the compiled
 *   helper this process becomes the helper), or returns having started nothing;
 * - stage 2 (`cli.ts __stage2 <launch-spec.json>`, lib/ns/stage2_command.ts) goes straight to lib/stage2.ts;
 * - everything else, and a plain exec that could not run that way, to lib/cli/main.ts: global options,
 *   the command table, the flag parser, help, errors.
 * @module
 */

/** The store root of a plain `[--root DIR] exec CONTAINER COMMAND…`, "" without `--root`; else undefined. */
function plainExecRoot(args: readonly string[]): string | undefined {
  let i = 0;
  let root = "";
  if (args[0] === "--root" && args[1]) {
    root = args[1];
    i = 2;
  } else if (args[0]?.startsWith("--root=") && args[0].length > 7) {
    root = args[0].slice(7);
    i = 1;
  }
  // exec's own words: a container and a command, no option (lib/cli/exec_plain_main.ts checks them again)
  if (args[i] !== "exec" || args.length < i + 3 || args[i + 1].startsWith("-")) return undefined;
  return root;
}

if (import.meta.main) {
  const args = Deno.args;
  const root = plainExecRoot(args);
  if (root !== undefined) {
    const { execPlain, plainStoreRoot } = await import("./lib/cli/exec_plain_main.ts");
    await execPlain(args.slice(args.indexOf("exec") + 1), root ? plainStoreRoot(root) : undefined);
  }
  if (args[0] === "__stage2") {
    const { stage2Main } = await import("./lib/stage2.ts");
    Deno.exit(await stage2Main(args[1]));
  }
  await (await import("./lib/cli/main.ts")).cliMain(args.slice());
}
