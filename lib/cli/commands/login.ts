/** `pod login`: check credentials against a registry and store them in auth.json. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { PodError, UsageError } from "../../errors.ts";
import { RegistryClient } from "../../registry/client.ts";
import { findCredentials, normalizeAuthKey, saveCredentials } from "../../registry/credentials.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "login",
  usage: "pod login [options] REGISTRY",
  summary: "Log in to a container registry",
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: "username", short: "u", type: "string", help: "Username for registry" },
    { name: "password", short: "p", type: "string", help: "Password for registry" },
    { name: "password-stdin", type: "bool", help: "Take the password from stdin" },
    {
      name: "tls-verify",
      type: "bool",
      default: true,
      help: "Require HTTPS and verify certificates when contacting registries",
    },
    { name: "authfile", type: "string", help: "Path of the authentication file" },
    { name: "get-login", type: "bool", help: "Return the current login user for the registry" },
    { name: "cert-dir", type: "string", help: "Certificates directory", ignored: true, hidden: true },
    { name: "verbose", short: "v", type: "bool", help: "Write more detailed information to stdout" },
  ],
};

const enc = new TextEncoder();

async function readAllStdin(): Promise<string> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of Deno.stdin.readable) {
    chunks.push(c);
    n += c.length;
    if (n > 1 << 20) throw new UsageError("--password-stdin: input too large");
  }
  const all = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(all);
}

async function readLine(promptText: string, echo: boolean): Promise<string> {
  await Deno.stderr.write(enc.encode(promptText));
  if (!echo) Deno.stdin.setRaw(true);
  const buf = new Uint8Array(1);
  const bytes: number[] = [];
  try {
    while (true) {
      const n = await Deno.stdin.read(buf);
      if (n === null) break;
      const c = buf[0];
      if (c === 3) throw new PodError("interrupted");
      if (c === 10 || c === 13) break;
      if (c === 127 || c === 8) {
        bytes.pop();
        continue;
      }
      bytes.push(c);
    }
  } finally {
    if (!echo) {
      Deno.stdin.setRaw(false);
      await Deno.stderr.write(enc.encode("\n"));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  void g;
  const registryArg = p.args[0];
  const key = normalizeAuthKey(registryArg);
  const host = key.split("/")[0];
  if (!host) throw new UsageError(`invalid registry "${registryArg}"`);
  const authFile = p.flags.authfile as string | undefined;

  if (p.flags["get-login"]) {
    const c = await findCredentials(host, key.includes("/") ? key.slice(host.length + 1) : undefined, {
      authFile,
    });
    if (!c) throw new PodError(`not logged into ${key}`);
    await Deno.stdout.write(enc.encode(c.username + "\n"));
    return 0;
  }

  let username = p.flags.username as string | undefined;
  let password = p.flags.password as string | undefined;
  const fromStdin = p.flags["password-stdin"] === true;
  if (fromStdin && password !== undefined) {
    throw new UsageError("--password and --password-stdin are mutually exclusive");
  }
  if (fromStdin) {
    if (!username) throw new UsageError("must provide --username with --password-stdin");
    password = (await readAllStdin()).replace(/\r?\n$/, "");
  }
  if (password !== undefined && password !== "" && !fromStdin) {
    // podman warns the same way
    await Deno.stderr.write(
      enc.encode(
        "WARNING! Using --password via the cli is insecure. Please consider using --password-stdin\n",
      ),
    );
  }
  if (!username || password === undefined) {
    if (!Deno.stdin.isTerminal()) {
      throw new UsageError(
        "cannot prompt for credentials: stdin is not a terminal (use -u and -p or --password-stdin)",
      );
    }
    if (!username) username = (await readLine("Username: ", true)).trim();
    if (password === undefined) password = await readLine("Password: ", false);
  }
  if (!username) throw new UsageError("username is empty");
  if (!password) throw new UsageError("password is empty");

  const client = new RegistryClient(host, {
    tlsVerify: p.flags["tls-verify"] !== false,
    credentials: { username, password },
  });
  await client.ping();
  await saveCredentials(key, { username, password }, { authFile });
  await Deno.stdout.write(enc.encode("Login Succeeded!\n"));
  return 0;
}
