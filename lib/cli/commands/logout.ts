/** `pod logout`: remove stored registry credentials. @module */

import { bool, defineCommand, str } from "../flags.ts";
import { PodError, UsageError } from "../../errors.ts";
import {
  authFilePath,
  credentialsElsewhere,
  normalizeAuthKey,
  removeCredentials,
} from "../../registry/credentials.ts";
import { println } from "../output.ts";

export default defineCommand({
  name: "logout",
  usage: "pod logout [options] [REGISTRY]",
  summary: "Log out of a container registry",
  maxArgs: 1,
  flags: {
    all: bool("a", "Remove the cached credentials for all registries in the auth file"),
    authfile: str("Path of the authentication file"),
  },
  async run(flags, args) {
    const authFile = flags.authfile;
    if (flags.all) {
      if (args.length) throw new UsageError("--all takes no registry argument", "See 'pod logout --help'");
      await removeCredentials(undefined, { authFile });
      println("Removed login credentials for all registries");
      return 0;
    }
    if (args.length !== 1) throw new UsageError("registry must be given", "See 'pod logout --help'");
    const key = normalizeAuthKey(args[0]);
    if (await removeCredentials(key, { authFile })) {
      println(`Removed login credentials for ${key}`);
      return 0;
    }
    const other = await credentialsElsewhere(key, { authFile });
    if (other) {
      throw new PodError(`not logged into ${key} with pod: the credentials come from ${other}`, {
        code: "NOT_FOUND",
        hint: "remove them there, e.g. with docker logout",
      });
    }
    throw new PodError(`not logged into ${key} (auth file ${authFilePath({ authFile })})`, {
      code: "NOT_FOUND",
    });
  },
});
