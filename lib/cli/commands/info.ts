/** `pod info`: the host and store pod works with. @module */

import { defineCommand, type Globals, str } from "../flags.ts";
import { VERSION } from "../../version.ts";
import { printFormatted, printJson } from "../output.ts";
import { ensureStore, listImages } from "../../store/images.ts";
import { storePaths } from "../../store/paths.ts";

export default defineCommand({
  name: "info",
  usage: "pod info [options]",
  summary: "Display pod related system information",
  maxArgs: 0,
  flags: { format: str("f", "Change the output format to JSON or a Go template") },
  async run(flags, _args, g) {
    const info = await hostInfo(g);
    if (flags.format && flags.format !== "json") await printFormatted(flags.format, [info]);
    else printJson(info);
    return 0;
  },
});

function firstLine(path: string): string {
  try {
    return Deno.readTextFileSync(path).split("\n")[0].trim();
  } catch {
    return "";
  }
}

async function countDirs(dir: string): Promise<number> {
  let n = 0;
  try {
    for await (const e of Deno.readDir(dir)) if (e.isDirectory && /^[a-f0-9]{64}$/.test(e.name)) n++;
  } catch { /* none */ }
  return n;
}

/** What `info` shows: host, store and version facts. */
async function hostInfo(g: Globals): Promise<Record<string, unknown>> {
  await ensureStore(g.root);
  const uid = Deno.uid() ?? 0;
  const osRelease = Object.fromEntries(
    (() => {
      try {
        return Deno.readTextFileSync("/etc/os-release").split("\n").filter((l) => l.includes("=")).map(
          (l) => {
            const i = l.indexOf("=");
            return [l.slice(0, i), l.slice(i + 1).replace(/^"|"$/g, "")];
          },
        );
      } catch {
        return [];
      }
    })(),
  );
  return {
    host: {
      arch: Deno.build.arch === "x86_64" ? "amd64" : Deno.build.arch,
      os: Deno.build.os,
      kernel: Deno.osRelease(),
      hostname: Deno.hostname(),
      distribution: { distribution: osRelease.ID ?? "", version: osRelease.VERSION_ID ?? "" },
      cpus: navigator.hardwareConcurrency,
      memTotal: Deno.systemMemoryInfo().total,
      security: { rootless: uid !== 0 },
      idMappings: uid !== 0
        ? { uidmap: firstLine("/proc/self/uid_map"), gidmap: firstLine("/proc/self/gid_map") }
        : undefined,
    },
    store: {
      graphRoot: g.root,
      imageStore: { number: (await listImages(g.root)).length },
      containerStore: { number: await countDirs(storePaths(g.root).containers) },
    },
    version: { Version: VERSION, DenoVersion: Deno.version.deno },
  };
}
