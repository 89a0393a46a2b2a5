/** `pod login`: check credentials against a registry and store them in auth.json. @module */

import { bool, defineCommand, str } from "../flags.ts";
import { PodError, UsageError } from "../../errors.ts";
import { RegistryClient } from "../../registry/client.ts";
import { findCredentials, normalizeAuthKey, saveCredentials } from "../../registry/credentials.ts";
import { err, println } from "../output.ts";
import { readAllStdin, readLine } from "../prompt.ts";

export default defineCommand({
  name: "login",
  usage: "pod login [options] REGISTRY",
  summary: "Log in to a container registry",
  minArgs: 1,
  maxArgs: 1,
  flags: {
    username: str("u", "Username for registry"),
    password: str("p", "Password for registry"),
    passwordStdin: bool("Take the password from stdin"),
    tlsVerify: bool("Require HTTPS and verify certificates when contacting registries", { default: true }),
    authfile: str("Path of the authentication file"),
    getLogin: bool("Return the current login user for the registry"),
    certDir: str("Use certificates at the specified path to access the registry"),
    verbose: bool("v", "Write more detailed information to stdout"),
  },
  async run(flags, args, _g, given) {
    const registryArg = args[0];
    const key = normalizeAuthKey(registryArg);
    const host = key.split("/")[0];
    if (!host) throw new UsageError(`invalid registry "${registryArg}"`);
    const authFile = flags.authfile;

    if (flags.getLogin) {
      const c = await findCredentials(host, key.includes("/") ? key.slice(host.length + 1) : undefined, {
        authFile,
      });
      if (!c) throw new PodError(`not logged into ${key}`, { code: "NOT_FOUND" });
      println(c.username);
      return 0;
    }

    let { username, password } = flags;
    const fromStdin = flags.passwordStdin;
    if (fromStdin && password !== undefined) {
      throw new UsageError("--password and --password-stdin are mutually exclusive");
    }
    if (fromStdin) {
      if (!username) throw new UsageError("must provide --username with --password-stdin");
      password = (await readAllStdin("--password-stdin")).replace(/\r?\n$/, "");
    }
    if (password !== undefined && password !== "" && !fromStdin) {
      // podman warns the same way
      err("WARNING! Using --password via the cli is insecure. Please consider using --password-stdin\n");
    }
    if (!username || password === undefined) {
      if (!Deno.stdin.isTerminal()) {
        throw new UsageError(
          "cannot prompt for credentials: stdin is not a terminal",
          "use -u and -p, or --password-stdin",
        );
      }
      if (!username) username = (await readLine("Username: ", true)).trim();
      if (password === undefined) password = await readLine("Password: ", false);
    }
    if (!username) throw new UsageError("username is empty");
    if (!password) throw new UsageError("password is empty");

    const client = new RegistryClient(host, {
      tlsVerify: given.has("tlsVerify") ? flags.tlsVerify : undefined,
      certDir: flags.certDir,
      credentials: { username, password },
    });
    await client.ping();
    await saveCredentials(key, { username, password }, { authFile });
    println("Login Succeeded!");
    return 0;
  },
});
