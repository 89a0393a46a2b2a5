/**
 * The mount points of this process's mount namespace, from `/proc/self/mountinfo`.
 * @module
 */

/**
 * The mount points in this mount namespace (field 5 of `/proc/self/mountinfo`, octal escapes such as `\040`
 * decoded); empty when it cannot be read.
 *
 * @example
 * ```ts
 * import { mountPoints } from "./mountinfo.ts";
 * const mounted = (await mountPoints()).has("/proc");
 * ```
 */
export async function mountPoints(): Promise<Set<string>> {
  const text = await Deno.readTextFile("/proc/self/mountinfo").catch(() => "");
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    if (f.length > 4) out.add(f[4].replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}
