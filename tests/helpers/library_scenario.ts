/**
 * Runs a library scenario (a script of `mod.ts` calls that prints the names of the steps that passed as JSON) as
 * root in this process, or rootless as a script started by the rootless test user with the CLI's own command line.
 * The library prints nothing, so the rootless script's stderr must stay empty.
 * @module
 */
import assert from "node:assert/strict";
import type { Mode } from "./modes.ts";
import { CLI_PATH, podCommand, type TempPodHome } from "./pod.ts";
import { TEST_USER } from "./rootless.ts";

/**
 * The names of the steps that passed: `inProcess()` as root; rootless, `script` run as the test user with `args`
 * (its command line is the CLI's for that user, with the script in place of cli.ts).
 */
export async function runLibraryScenario(
  mode: Mode,
  h: TempPodHome,
  script: URL,
  args: string[],
  inProcess: () => Promise<string[]>,
): Promise<string[]> {
  if (mode === "root") return await inProcess();
  const c = await podCommand(args, { home: h.home, user: TEST_USER });
  const out = await new Deno.Command(c.cmd, {
    args: c.args.map((a) => a === CLI_PATH ? script.pathname : a),
    env: c.env,
    clearEnv: true,
    cwd: c.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.equal(stderr, "", "the library printed something");
  return JSON.parse(new TextDecoder().decode(out.stdout));
}
