/** `pod pull`: copy images from a registry into the store. @module */

import { writeEvents } from "../../store/events.ts";
import { bool, defineCommand, type FlagValues, int, str } from "../flags.ts";
import { err, println } from "../output.ts";
import { UsageError } from "../../errors.ts";
import { hostPlatform } from "../../oci/platform.ts";
import type { Credentials } from "../../registry/credentials.ts";

const pullFlags = {
  platform: str("Pull the image for this platform (os/arch[/variant])"),
  os: str("Use OS instead of the running OS for choosing images"),
  arch: str("Use ARCH instead of the architecture of the machine"),
  variant: str("Use VARIANT instead of the default architecture variant"),
  quiet: bool("q", "Suppress output information when pulling images"),
  tlsVerify: bool("Require HTTPS and verify certificates when contacting registries", { default: true }),
  authfile: str("Path of the authentication file"),
  creds: str("Use [username[:password]] for accessing the registry"),
  allTags: bool("a", "Pull all tagged images (not supported)", { hidden: true }),
  certDir: str("Use certificates at the specified path to access the registry"),
  retry: int("Number of times to retry", { ignored: true, hidden: true }),
  retryDelay: str("Delay between retries", { ignored: true, hidden: true }),
  policy: str("Pull policy", { ignored: true, hidden: true }),
  disableContentTrust: bool("This is a Docker specific option and is a NOOP", {
    ignored: true,
    hidden: true,
  }),
};

type PullFlags = FlagValues<typeof pullFlags>;

export default defineCommand({
  name: "pull",
  usage: "pod pull [options] IMAGE [IMAGE...]",
  summary: "Pull an image from a registry",
  minArgs: 1,
  flags: pullFlags,
  async run(flags, args, g, given) {
    if (flags.allTags) throw new UsageError("--all-tags is not supported");
    const platform = requestedPlatform(flags);
    const credentials = parseCreds(flags.creds);
    const { pullImage } = await import("../../image/pull.ts");
    const { ProgressPrinter } = await import("../views/progress.ts");
    // Ctrl-C: drop this process's temp files (partial blobs, the blob claim) and exit 130 at once. Nothing
    // half-made is visible anyway: the image is registered only after all its blobs are in place.
    const onInterrupt = () => {
      removeOwnTemps(g.root);
      Deno.exit(130);
    };
    Deno.addSignalListener("SIGINT", onInterrupt);
    try {
      for (const image of args) {
        const progress = new ProgressPrinter({ quiet: flags.quiet, write: err });
        try {
          const r = await pullImage(g.root, image, {
            platform,
            tlsVerify: given.has("tlsVerify") ? flags.tlsVerify : undefined,
            quiet: flags.quiet,
            onEvent: progress.handle,
            authFile: flags.authfile,
            credentials,
            certDir: flags.certDir,
          });
          writeEvents(g.root, { ID: r.id, Name: r.ref, Status: "pull", Type: "image" });
          println(r.id);
        } finally {
          progress.finish();
        }
      }
      return 0;
    } finally {
      Deno.removeSignalListener("SIGINT", onInterrupt);
    }
  },
});

/** The platform requested by `--platform` or `--os/--arch/--variant`; undefined for the host's. */
export function requestedPlatform(
  flags: Pick<PullFlags, "platform" | "os" | "arch" | "variant">,
): string | undefined {
  const { platform, os, arch, variant } = flags;
  if (platform) {
    if (os || arch || variant) {
      throw new UsageError("--platform cannot be used with --os, --arch or --variant");
    }
    return platform;
  }
  if (!os && !arch && !variant) return undefined;
  const host = hostPlatform();
  const a = arch || host.architecture;
  const v = variant || (arch ? undefined : host.variant);
  return `${os || host.os}/${a}${v ? `/${v}` : ""}`;
}

/** Parses `--creds user:pass`. */
export function parseCreds(s: string | undefined): Credentials | undefined {
  if (s === undefined || s === "") return undefined;
  const i = s.indexOf(":");
  if (i <= 0) throw new UsageError("--creds: want USERNAME:PASSWORD");
  return { username: s.slice(0, i), password: s.slice(i + 1) };
}

/** Removes the temp files this process made in the store (`tmp/` and `index.json` temps). */
function removeOwnTemps(root: string): void {
  const mine = new RegExp(`^\\.[a-z]+-${Deno.pid}-`);
  for (const dir of [`${root}/tmp`, root]) {
    try {
      for (const e of Deno.readDirSync(dir)) {
        if (mine.test(e.name)) {
          try {
            Deno.removeSync(`${dir}/${e.name}`);
          } catch { /* gone */ }
        }
      }
    } catch { /* no store yet */ }
  }
}
