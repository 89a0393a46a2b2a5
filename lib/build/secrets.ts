/**
 * `build --secret id=ID[,src=PATH][,type=file|env]`: secrets a RUN mounts with `--mount=type=secret,id=ID`
 * (a file at `/run/secrets/ID` by default, never part of a layer nor of the cache key). `type=env` takes the
 * value of the environment variable `src` (default: ID). Checked when parsed, as podman: a file that cannot
 * be read is an error before the build starts.
 * @module
 */

import { UsageError } from "../errors.ts";

/** Where a secret's value comes from. */
export type SecretSource = { file: string } | { env: string };

/** Parses the `--secret` values into id → source. */
export async function parseSecrets(values: string[]): Promise<Map<string, SecretSource>> {
  const out = new Map<string, SecretSource>();
  for (const v of values) {
    let id: string | undefined, src: string | undefined, type = "file";
    for (const part of v.split(",")) {
      const i = part.indexOf("=");
      const k = i < 0 ? part : part.slice(0, i), val = i < 0 ? "" : part.slice(i + 1);
      if (k === "id") id = val;
      else if (k === "src" || k === "source") src = val;
      else if (k === "type") type = val;
      else if (k === "env") [type, src] = ["env", val];
      else throw new UsageError(`invalid --secret "${v}": unknown option "${k}" (id, src, type, env)`);
    }
    if (!id) throw new UsageError(`invalid --secret "${v}": id= is required`);
    if (type === "env") {
      const name = src || id;
      if (Deno.env.get(name) === undefined) {
        throw new UsageError(`--secret ${id}: environment variable ${name} is not set`);
      }
      out.set(id, { env: name });
    } else if (type === "file") {
      if (!src) throw new UsageError(`invalid --secret "${v}": src= is required`);
      try {
        const st = await Deno.stat(src);
        if (!st.isFile) throw new Error("not a regular file");
        (await Deno.open(src)).close();
      } catch (e) {
        throw new UsageError(`--secret ${id}: cannot read ${src}: ${e instanceof Error ? e.message : e}`);
      }
      out.set(id, { file: src });
    } else throw new UsageError(`invalid --secret "${v}": type must be file or env`);
  }
  return out;
}

/** The secret's value. */
export async function readSecret(s: SecretSource): Promise<Uint8Array> {
  return "file" in s ? await Deno.readFile(s.file) : new TextEncoder().encode(Deno.env.get(s.env) ?? "");
}
