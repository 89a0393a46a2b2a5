/** `pod logout`: remove stored registry credentials. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { PodError, UsageError } from "../../errors.ts";
import {
  authFilePath,
  credentialsElsewhere,
  normalizeAuthKey,
  removeCredentials,
} from "../../registry/credentials.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "logout",
  usage: "pod logout [options] [REGISTRY]",
  summary: "Log out of a container registry",
  maxArgs: 1,
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      help: "Remove the cached credentials for all registries in the auth file",
    },
    { name: "authfile", type: "string", help: "Path of the authentication file" },
  ],
};

const enc = new TextEncoder();

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  void g;
  const authFile = p.flags.authfile as string | undefined;
  if (p.flags.all) {
    if (p.args.length) throw new UsageError("--all takes no registry argument");
    await removeCredentials(undefined, { authFile });
    await Deno.stdout.write(enc.encode("Removed login credentials for all registries\n"));
    return 0;
  }
  if (p.args.length !== 1) throw new UsageError("registry must be given");
  const key = normalizeAuthKey(p.args[0]);
  if (await removeCredentials(key, { authFile })) {
    await Deno.stdout.write(enc.encode(`Removed login credentials for ${key}\n`));
    return 0;
  }
  const other = await credentialsElsewhere(key, { authFile });
  if (other) {
    throw new PodError(
      `not logged into ${key} with pod: the credentials come from ${other} (remove them there, e.g. docker logout)`,
    );
  }
  throw new PodError(`not logged into ${key} (auth file ${authFilePath({ authFile })})`);
}
