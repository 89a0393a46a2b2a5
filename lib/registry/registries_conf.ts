/**
 * Registries marked insecure in containers' `registries.conf` (`$CONTAINERS_REGISTRIES_CONF`, else, rootless,
 * `~/.config/containers/registries.conf` when it exists, else `/etc/containers/registries.conf`): version 2
 * `[[registry]]` tables with `location` (or `prefix`) and `insecure = true`, and version 1's
 * `[registries.insecure] registries = [...]`. Only whole-host entries count (`HOST[:PORT]`, no repository
 * path): the check is per registry, not per repository. Read with a small line parser for exactly these keys.
 * @module
 */

/** The `HOST[:PORT]`s that `text` (a registries.conf) marks insecure. */
export function insecureRegistries(text: string): string[] {
  const out: string[] = [];
  let table = "";
  let cur: { location?: string; prefix?: string; insecure?: boolean } | undefined;
  let v1List = false;
  let pending = ""; // a multi-line v1 array
  const close = () => {
    if (cur?.insecure) {
      const where = cur.prefix ?? cur.location;
      if (where) out.push(where);
    }
    cur = undefined;
  };
  const strings = (s: string) => [...s.matchAll(/"([^"]*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2]);
  for (const raw of text.split("\n")) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (!line) continue;
    if (pending) {
      pending += " " + line;
      if (line.includes("]")) {
        out.push(...strings(pending));
        pending = "";
      }
      continue;
    }
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?$/.exec(line);
    if (header) {
      close();
      table = header[1];
      if (line.startsWith("[[") && table === "registry") cur = {};
      v1List = table === "registries.insecure";
      continue;
    }
    const kv = /^([\w.-]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) continue;
    const [, key, value] = kv;
    if (v1List && key === "registries") {
      if (value.includes("]")) out.push(...strings(value));
      else pending = value;
      continue;
    }
    if (!cur) continue;
    if (key === "location" || key === "prefix") cur[key] = strings(value)[0];
    else if (key === "insecure") cur.insecure = value === "true";
  }
  close();
  return out.filter((h) => h && !h.includes("/"));
}

/** The registries.conf pod reads (see the module notes), `undefined` when there is none. */
export async function registriesConfPath(): Promise<string | undefined> {
  const env = Deno.env.get("CONTAINERS_REGISTRIES_CONF");
  if (env) return env;
  const home = Deno.env.get("HOME");
  if (Deno.uid() !== 0 && home) {
    const user = `${home}/.config/containers/registries.conf`;
    if (await Deno.stat(user).then((s) => s.isFile, () => false)) return user;
  }
  return "/etc/containers/registries.conf";
}

let cached: Promise<Set<string>> | undefined;

/** True when registries.conf marks `host` (`HOST[:PORT]`) insecure. An unreadable file marks nothing. */
export function isInsecureRegistry(host: string): Promise<boolean> {
  cached ??= (async () => {
    const path = await registriesConfPath();
    const text = path ? await Deno.readTextFile(path).catch(() => "") : "";
    return new Set(insecureRegistries(text));
  })();
  return cached.then((s) => s.has(host));
}
