/**
 * `pod exec`: run a process in a running container; its exit code is passed through.
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { getContainer, listContainers } from "../../store/containers.ts";
import { expandEnvArg, readEnvFiles } from "../../container/process_options.ts";
import { execInContainer } from "../../container/exec.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "exec",
  usage: "pod exec [options] CONTAINER COMMAND [ARG...]",
  summary: "Run a process in a running container",
  flags: [
    {
      name: "detach",
      short: "d",
      type: "bool",
      help: "Run the exec session in detached mode (backgrounded)",
    },
    {
      name: "detach-keys",
      type: "string",
      help: "Select the key sequence for detaching a container",
      ignored: true,
    },
    { name: "env", short: "e", type: "strings", help: "Set environment variables" },
    { name: "env-file", type: "strings", help: "Read in a file of environment variables" },
    { name: "interactive", short: "i", type: "bool", help: "Make STDIN available to the contained process" },
    { name: "latest", short: "l", type: "bool", help: "Act on the latest container pod is aware of" },
    {
      name: "preserve-fds",
      type: "int",
      help: "Pass a number of additional file descriptors",
      ignored: true,
    },
    { name: "privileged", type: "bool", help: "Give the process extended Linux capabilities", ignored: true },
    { name: "tty", short: "t", type: "bool", help: "Allocate a pseudo-TTY" },
    {
      name: "user",
      short: "u",
      type: "string",
      help: "Sets the username or UID used and optionally the groupname or GID",
    },
    { name: "workdir", short: "w", type: "string", help: "Working directory inside the container" },
  ],
  minArgs: 1,
  stopAtFirstArg: true,
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  let args = p.args;
  let rec;
  if (p.flags.latest) {
    rec = (await listContainers(g.root))[0];
    if (!rec) throw new UsageError("no containers to run from");
  } else {
    rec = await getContainer(g.root, args[0]);
    args = args.slice(1);
  }
  if (!args.length) throw new UsageError("must provide a non-empty command to start an exec session");
  const envFiles = p.flags["env-file"] as string[];
  const envArgs = p.flags.env as string[];
  const host = envFiles.length || envArgs.length ? Deno.env.toObject() : {};
  const env = [
    ...envFiles.length ? await readEnvFiles(envFiles, host) : [],
    ...envArgs.flatMap((e) => expandEnvArg(e, host)),
  ];
  const code = await execInContainer(g.root, rec, {
    args,
    env,
    user: p.given.has("user") ? p.flags.user as string : undefined,
    workdir: p.given.has("workdir") ? p.flags.workdir as string : undefined,
    tty: p.flags.tty as boolean,
    interactive: p.flags.interactive as boolean,
    detach: p.flags.detach as boolean,
  });
  if (p.flags.detach) {
    const b = crypto.getRandomValues(new Uint8Array(32));
    console.log(Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""));
  }
  return code;
}
