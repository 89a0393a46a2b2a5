/** `pod push`: copy an image to a registry, an OCI layout or an archive. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { ensureStore } from "../../store/images.ts";
import { parseCreds } from "./pull.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "push",
  usage: "pod push [options] IMAGE [DESTINATION]",
  summary: "Push an image to a specified destination",
  minArgs: 1,
  maxArgs: 2,
  flags: [
    {
      name: "tls-verify",
      type: "bool",
      default: true,
      help: "Require HTTPS and verify certificates when contacting registries",
    },
    { name: "authfile", type: "string", help: "Path of the authentication file" },
    { name: "creds", type: "string", help: "Use [username[:password]] for accessing the registry" },
    {
      name: "format",
      short: "f",
      type: "string",
      help: "Manifest type (oci, v2s2) to use in the destination",
    },
    {
      name: "digestfile",
      type: "string",
      help: "Write the digest of the pushed image to the specified file",
    },
    { name: "quiet", short: "q", type: "bool", help: "Suppress output information when pushing images" },
    { name: "cert-dir", type: "string", help: "Certificates directory", ignored: true, hidden: true },
    { name: "compression-format", type: "string", help: "Compression format (not supported)", hidden: true },
    { name: "remove-signatures", type: "bool", help: "Discard any pre-existing signatures", ignored: true },
    {
      name: "disable-content-trust",
      type: "bool",
      help: "This is a Docker specific option and is a NOOP",
      ignored: true,
      hidden: true,
    },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const format = p.flags.format as string | undefined;
  if (format !== undefined && format !== "oci" && format !== "v2s2") {
    throw new UsageError(`unsupported manifest format "${format}" (oci, v2s2)`);
  }
  if (p.flags["compression-format"]) throw new UsageError("--compression-format is not supported");
  const quiet = p.flags.quiet === true;
  await ensureStore(g.root);
  const { pushImage } = await import("../../image/push.ts");
  const say = (s: string) => {
    if (!quiet) console.error(s);
  };
  say("Getting image source signatures");
  const r = await pushImage(g.root, p.args[0], p.args[1], {
    tlsVerify: p.flags["tls-verify"] !== false,
    credentials: parseCreds(p.flags.creds as string | undefined),
    authFile: p.flags.authfile as string | undefined,
    format: format as "oci" | "v2s2" | undefined,
    chunkSize: Number(Deno.env.get("POD_PUSH_CHUNK_SIZE") ?? 0) || undefined,
    onEvent: (e) => {
      if (e.type === "writing-manifest") return say("Writing manifest to image destination");
      if (e.type === "retry") return say(`Retrying: ${e.why}`);
      const what = `Copying ${e.kind} ${e.digest.slice(7, 19)}`;
      say(e.result === "exists" ? `${what} skipped: already exists` : `${what} done`);
    },
  });
  if (p.flags.digestfile && r.digest) await Deno.writeTextFile(p.flags.digestfile as string, r.digest);
  return 0;
}
