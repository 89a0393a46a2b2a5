/**
 * Registries marked insecure in containers' `registries.conf`, read as podman (containers/image
 * sysregistriesv2) reads it. The main file: `$CONTAINERS_REGISTRIES_CONF`, else `~/.config/containers/registries.conf`
 * when it exists, else `/etc/containers/registries.conf`. Then the drop-ins, `*.conf` files in alphanumerical
 * order: `/etc/containers/registries.conf.d/` then `~/.config/containers/registries.conf.d/` — except that when
 * the per-user main file is used, only the per-user directory is read. A drop-in's `[[registry]]` replaces the
 * entry with the same prefix as a whole (so `insecure` left out of it means false); other entries stay.
 *
 * Version 2 `[[registry]]` tables with `location` (or `prefix`) and `insecure`, and version 1's
 * `[registries.insecure] registries = [...]` (main file only; podman refuses v1 in drop-ins, pod ignores it
 * there). A registry host matches the longest prefix as podman's `FindRegistry` does: `HOST[:PORT]` itself,
 * or `*.example.com` for its subdomains; entries with a repository path never match a whole registry. Read
 * with a small line parser for exactly these keys.
 * @module
 */

/** One `[[registry]]` entry as far as pod reads it. */
export interface RegistryEntry {
  /** `prefix`, else `location` (`HOST[:PORT][/PATH]` or `*.example.com`). */
  prefix: string;
  /** `insecure = true`. */
  insecure: boolean;
}

/** The `[[registry]]` entries of `text` (a registries.conf), v1's lists converted; `v1` when it used them. */
export function parseRegistriesConf(text: string): { entries: RegistryEntry[]; v1: boolean } {
  const entries: RegistryEntry[] = [];
  let v1 = false;
  let cur: { location?: string; prefix?: string; insecure?: boolean } | undefined;
  let v1List = "";
  let pending = ""; // a multi-line v1 array
  const close = () => {
    const where = cur?.prefix ?? cur?.location;
    if (where) entries.push({ prefix: where, insecure: cur?.insecure === true });
    cur = undefined;
  };
  const strings = (s: string) => [...s.matchAll(/"([^"]*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2]);
  const v1Add = (hosts: string[]) => {
    v1 = true;
    for (const h of hosts) {
      if (!h) continue;
      const e = entries.find((x) => x.prefix === h);
      const insecure = v1List === "registries.insecure";
      if (e) e.insecure ||= insecure;
      else entries.push({ prefix: h, insecure });
    }
  };
  for (const raw of text.split("\n")) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (!line) continue;
    if (pending) {
      pending += " " + line;
      if (line.includes("]")) {
        v1Add(strings(pending));
        pending = "";
      }
      continue;
    }
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?$/.exec(line);
    if (header) {
      close();
      const table = header[1];
      if (line.startsWith("[[") && table === "registry") cur = {};
      v1List = /^registries\.(insecure|search|block)$/.test(table) ? table : "";
      continue;
    }
    const kv = /^([\w.-]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) continue;
    const [, key, value] = kv;
    if (v1List && key === "registries") {
      if (value.includes("]")) v1Add(strings(value));
      else pending = value;
      continue;
    }
    if (!cur) continue;
    if (key === "location" || key === "prefix") cur[key] = strings(value)[0];
    else if (key === "insecure") cur.insecure = value === "true";
  }
  close();
  // within one file the first entry of a prefix wins (podman drops the later ones)
  const seen = new Set<string>();
  return { entries: entries.filter((e) => !seen.has(e.prefix) && seen.add(e.prefix)), v1 };
}

/** The `HOST[:PORT]`s that `text` (one registries.conf) marks insecure as whole registries. */
export function insecureRegistries(text: string): string[] {
  return parseRegistriesConf(text).entries.filter((e) => e.insecure && !e.prefix.includes("/")).map((e) =>
    e.prefix
  );
}

/**
 * Merges a main registries.conf and its drop-ins (texts in podman's order, main first) into entries by
 * prefix: a later file's entry replaces an earlier one with the same prefix.
 */
export function mergeRegistriesConf(main: string, dropIns: string[]): Map<string, RegistryEntry> {
  const out = new Map<string, RegistryEntry>();
  for (const e of parseRegistriesConf(main).entries) out.set(e.prefix, e);
  for (const text of dropIns) {
    const { entries, v1 } = parseRegistriesConf(text);
    if (v1) continue; // podman: "registry must be in v2 format but is in v1"
    for (const e of entries) out.set(e.prefix, e);
  }
  return out;
}

/** Does registry `host` (`HOST[:PORT]`) match `prefix` (podman's refMatchingPrefix on a bare registry)? */
function matches(host: string, prefix: string): boolean {
  if (prefix.startsWith("*.")) {
    const i = host.indexOf(prefix.slice(1));
    if (i < 0) return false;
    const end = i + prefix.length - 1;
    return end === host.length || host[end] === ":";
  }
  if (host === prefix) return true;
  // podman's documented quirk: "example.com:5000" matches "example.com"
  return host.length > prefix.length && host.startsWith(prefix) && host[prefix.length] === ":";
}

/** The entry for registry `host` in merged `entries`: the longest matching prefix, as podman's FindRegistry. */
export function findRegistry(entries: Map<string, RegistryEntry>, host: string): RegistryEntry | undefined {
  let best: RegistryEntry | undefined;
  // podman keeps the entries sorted by prefix; on equal lengths the first one wins
  for (
    const e of [...entries.values()].sort((a, b) => a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0)
  ) {
    if (matches(host, e.prefix) && e.prefix.length > (best?.prefix.length ?? 0)) best = e;
  }
  return best;
}

/** The files pod reads, in podman's order (see the module notes): the main file and the drop-in directories. */
export async function registriesConfSources(): Promise<{ main: string; dirs: string[] }> {
  const home = Deno.env.get("HOME");
  const userFile = home ? `${home}/.config/containers/registries.conf` : undefined;
  const userDir = home ? `${home}/.config/containers/registries.conf.d` : undefined;
  const env = Deno.env.get("CONTAINERS_REGISTRIES_CONF");
  const systemDir = "/etc/containers/registries.conf.d";
  if (env) return { main: env, dirs: [systemDir, ...userDir ? [userDir] : []] };
  if (userFile && await Deno.stat(userFile).then((s) => s.isFile, () => false)) {
    return { main: userFile, dirs: [userDir!] };
  }
  return { main: "/etc/containers/registries.conf", dirs: [systemDir, ...userDir ? [userDir] : []] };
}

/** The main registries.conf pod reads (see the module notes). */
export async function registriesConfPath(): Promise<string> {
  return (await registriesConfSources()).main;
}

/** The `*.conf` files of `dir` in alphanumerical order (none when it does not exist). */
async function dropInFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.isDirectory && e.name.endsWith(".conf")) names.push(e.name);
    }
  } catch {
    return [];
  }
  return names.sort().map((n) => `${dir}/${n}`);
}

/** Reads the main file and the drop-ins and merges them (unreadable files add nothing). */
export async function loadRegistriesConf(): Promise<Map<string, RegistryEntry>> {
  const { main, dirs } = await registriesConfSources();
  const read = (p: string) => Deno.readTextFile(p).catch(() => "");
  const files = (await Promise.all(dirs.map(dropInFiles))).flat();
  return mergeRegistriesConf(await read(main), await Promise.all(files.map(read)));
}

let cached: Promise<Map<string, RegistryEntry>> | undefined;

/** True when registries.conf (with its drop-ins) marks `host` (`HOST[:PORT]`) insecure. */
export function isInsecureRegistry(host: string): Promise<boolean> {
  cached ??= loadRegistriesConf();
  return cached.then((m) => findRegistry(m, host)?.insecure === true);
}
