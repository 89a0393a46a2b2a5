/** `pod push`: copy an image to a registry, an OCI layout or an archive. @module */

import { writeEvents } from "../../store/events.ts";
import { bool, defineCommand, str } from "../flags.ts";
import { err } from "../output.ts";
import { UsageError } from "../../errors.ts";
import { ensureStore } from "../../store/images.ts";
import { parseCreds } from "./pull.ts";

export default defineCommand({
  name: "push",
  usage: "pod push [options] IMAGE [DESTINATION]",
  summary: "Push an image to a specified destination",
  minArgs: 1,
  maxArgs: 2,
  flags: {
    tlsVerify: bool("Require HTTPS and verify certificates when contacting registries", { default: true }),
    authfile: str("Path of the authentication file"),
    creds: str("Use [username[:password]] for accessing the registry"),
    format: str("f", "Manifest type (oci, v2s2) to use in the destination"),
    digestfile: str("Write the digest of the pushed image to the specified file"),
    quiet: bool("q", "Suppress output information when pushing images"),
    certDir: str("Use certificates at the specified path to access the registry"),
    compressionFormat: str("Compression format to use (gzip, zstd)"),
    removeSignatures: bool("Discard any pre-existing signatures", { ignored: true }),
    disableContentTrust: bool("This is a Docker specific option and is a NOOP", {
      ignored: true,
      hidden: true,
    }),
  },
  async run(flags, args, g, given) {
    const { format } = flags;
    if (format !== undefined && format !== "oci" && format !== "v2s2") {
      throw new UsageError(`unsupported manifest format "${format}" (oci, v2s2)`);
    }
    const cf = flags.compressionFormat;
    if (cf !== undefined && cf !== "gzip" && cf !== "zstd") {
      throw new UsageError(`unsupported compression format "${cf}" (gzip, zstd)`);
    }
    await ensureStore(g.root);
    const { pushImage } = await import("../../image/push.ts");
    const say = (s: string) => {
      if (!flags.quiet) err(s + "\n");
    };
    say("Getting image source signatures");
    const r = await pushImage(g.root, args[0], args[1], {
      tlsVerify: given.has("tlsVerify") ? flags.tlsVerify : undefined,
      certDir: flags.certDir,
      credentials: parseCreds(flags.creds),
      authFile: flags.authfile,
      format,
      compressionFormat: cf,
      chunkSize: Number(Deno.env.get("POD_PUSH_CHUNK_SIZE") ?? 0) || undefined,
      onEvent: (e) => {
        if (e.type === "writing-manifest") return say("Writing manifest to image destination");
        if (e.type === "retry") return say(`Retrying: ${e.why}`);
        const what = `Copying ${e.kind} ${e.digest.slice(7, 19)}`;
        say(e.result === "exists" ? `${what} skipped: already exists` : `${what} done`);
      },
    });
    writeEvents(g.root, { Name: args[1] ?? args[0], Status: "push", Type: "image" });
    if (flags.digestfile && r.digest) await Deno.writeTextFile(flags.digestfile, r.digest);
    return 0;
  },
});
