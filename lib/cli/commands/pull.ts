/** `pod pull`: copy images from a registry into the store. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { hostPlatform } from "../../oci/platform.ts";
import type { Credentials } from "../../registry/credentials.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "pull",
  usage: "pod pull [options] IMAGE [IMAGE...]",
  summary: "Pull an image from a registry",
  minArgs: 1,
  flags: [
    { name: "platform", type: "string", help: "Pull the image for this platform (os/arch[/variant])" },
    { name: "os", type: "string", help: "Use OS instead of the running OS for choosing images" },
    { name: "arch", type: "string", help: "Use ARCH instead of the architecture of the machine" },
    { name: "variant", type: "string", help: "Use VARIANT instead of the default architecture variant" },
    { name: "quiet", short: "q", type: "bool", help: "Suppress output information when pulling images" },
    {
      name: "tls-verify",
      type: "bool",
      default: true,
      help: "Require HTTPS and verify certificates when contacting registries",
    },
    { name: "authfile", type: "string", help: "Path of the authentication file" },
    { name: "creds", type: "string", help: "Use [username[:password]] for accessing the registry" },
    {
      name: "all-tags",
      short: "a",
      type: "bool",
      help: "Pull all tagged images (not supported)",
      hidden: true,
    },
    { name: "cert-dir", type: "string", help: "Certificates directory", ignored: true, hidden: true },
    { name: "retry", type: "int", help: "Number of times to retry", ignored: true, hidden: true },
    { name: "retry-delay", type: "string", help: "Delay between retries", ignored: true, hidden: true },
    { name: "policy", type: "string", help: "Pull policy", ignored: true, hidden: true },
    {
      name: "disable-content-trust",
      type: "bool",
      help: "This is a Docker specific option and is a NOOP",
      ignored: true,
      hidden: true,
    },
  ],
};

/** The platform requested by `--platform` or `--os/--arch/--variant`; undefined for the host's. */
export function requestedPlatform(flags: Record<string, unknown>): string | undefined {
  const platform = flags.platform as string | undefined;
  const os = flags.os as string | undefined;
  const arch = flags.arch as string | undefined;
  const variant = flags.variant as string | undefined;
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

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  if (p.flags["all-tags"]) throw new UsageError("--all-tags is not supported");
  const quiet = p.flags.quiet === true;
  const platform = requestedPlatform(p.flags);
  const credentials = parseCreds(p.flags.creds as string | undefined);
  const { pullImage } = await import("../../image/pull.ts");
  const { ProgressPrinter } = await import("../../image/progress.ts");
  // Ctrl-C: drop this process's temp files (partial blobs, the blob claim) and exit 130 at once. Nothing
  // half-made is visible anyway: the image is registered only after all its blobs are in place.
  const onInterrupt = () => {
    removeOwnTemps(g.root);
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    return await pullAll(p, g, { quiet, platform, credentials, pullImage, ProgressPrinter });
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
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

async function pullAll(
  p: Parsed,
  g: Globals,
  o: {
    quiet: boolean;
    platform: string | undefined;
    credentials: Credentials | undefined;
    pullImage: typeof import("../../image/pull.ts").pullImage;
    ProgressPrinter: typeof import("../../image/progress.ts").ProgressPrinter;
  },
): Promise<number> {
  const { quiet, platform, credentials, pullImage, ProgressPrinter } = o;
  for (const image of p.args) {
    const progress = new ProgressPrinter({ quiet });
    try {
      const r = await pullImage(g.root, image, {
        platform,
        tlsVerify: p.flags["tls-verify"] !== false,
        quiet,
        onEvent: progress.handle,
        authFile: p.flags.authfile as string | undefined,
        credentials,
      });
      await Deno.stdout.write(new TextEncoder().encode(r.id + "\n"));
    } finally {
      progress.finish();
    }
  }
  return 0;
}
