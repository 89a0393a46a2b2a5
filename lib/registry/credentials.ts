/**
 * Registry credentials in the containers-auth.json format (`{"auths":{"host:port":{"auth":"base64(user:pass)"}}}`),
 * as `podman login` writes them, plus Docker's `~/.docker/config.json` for reading.
 * @module
 */

/** A user name and password (or token) for one registry. */
export interface Credentials {
  /** User name. */
  username: string;
  /** Password or access token. */
  password: string;
}

/** Where to look for credentials. */
export interface CredentialOptions {
  /** An explicit auth file (`--authfile`); when set, only this file is used. */
  authFile?: string;
  /** Environment lookup (tests inject one). */
  env?: (k: string) => string | undefined;
}

/** One entry of an auth file's `auths` map. */
export type AuthEntry = { auth?: string; username?: string; password?: string; [k: string]: unknown };
type AuthFile = { auths?: Record<string, AuthEntry>; [k: string]: unknown };

function envOf(o?: CredentialOptions): (k: string) => string | undefined {
  return o?.env ?? ((k) => Deno.env.get(k));
}

/**
 * The auth file `pod login` writes: `--authfile`, else `$REGISTRY_AUTH_FILE`, else
 * `$XDG_RUNTIME_DIR/containers/auth.json`, else `/run/user/<uid>/containers/auth.json`.
 */
export function authFilePath(o?: CredentialOptions): string {
  if (o?.authFile) return o.authFile;
  const env = envOf(o);
  const explicit = env("REGISTRY_AUTH_FILE");
  if (explicit) return explicit;
  const xdg = env("XDG_RUNTIME_DIR");
  if (xdg) return `${xdg}/containers/auth.json`;
  return `/run/user/${Deno.uid() ?? 0}/containers/auth.json`;
}

/** All files read for credentials, in priority order. */
export function credentialFiles(o?: CredentialOptions): string[] {
  const env = envOf(o);
  if (o?.authFile || env("REGISTRY_AUTH_FILE")) return [authFilePath(o)];
  const files = [authFilePath(o)];
  const home = env("HOME");
  const xdgConfig = env("XDG_CONFIG_HOME") || (home ? `${home}/.config` : undefined);
  if (xdgConfig) files.push(`${xdgConfig}/containers/auth.json`);
  const dockerDir = env("DOCKER_CONFIG") || (home ? `${home}/.docker` : undefined);
  if (dockerDir) files.push(`${dockerDir}/config.json`);
  return files;
}

/**
 * Normalises what a user types for `pod login`/`logout` to an auth.json key: strips a scheme and trailing
 * slashes; Docker Hub's aliases become `docker.io`.
 */
export function normalizeAuthKey(registry: string): string {
  let k = registry.trim().replace(/^[a-z]+:\/\//i, "").replace(/\/+$/, "");
  if (k.endsWith("/v1") || k.endsWith("/v2")) k = k.slice(0, -3);
  const host = k.split("/")[0];
  if (host === "index.docker.io" || host === "registry-1.docker.io") k = "docker.io" + k.slice(host.length);
  return k;
}

/** Keys a registry may be stored under (Docker Hub has several spellings). */
function keysFor(registry: string): string[] {
  if (registry === "docker.io") {
    return ["docker.io", "https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io"];
  }
  return [registry, `https://${registry}`, `http://${registry}`];
}

async function readAuthFile(path: string): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) return undefined;
    throw e;
  }
  if (text.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`cannot parse auth file ${path}: ${(e as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new Error(`auth file ${path} is not an object`);
  }
  return v as AuthFile;
}

/** Decodes an auth entry (`auth` = base64 `user:pass`, or `username`/`password`). */
export function decodeAuthEntry(e: AuthEntry): Credentials | undefined {
  if (typeof e.auth === "string" && e.auth !== "") {
    let plain: string;
    try {
      plain = new TextDecoder().decode(Uint8Array.from(atob(e.auth), (c) => c.charCodeAt(0)));
    } catch {
      throw new Error("invalid base64 in auth file entry");
    }
    const i = plain.indexOf(":");
    if (i < 0) throw new Error("auth file entry is not user:password");
    return { username: plain.slice(0, i), password: plain.slice(i + 1) };
  }
  if (typeof e.username === "string" && typeof e.password === "string") {
    return { username: e.username, password: e.password };
  }
  return undefined;
}

/** Encodes `user:pass` as base64 (UTF-8). */
export function encodeAuth(c: Credentials): string {
  const bytes = new TextEncoder().encode(`${c.username}:${c.password}`);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function lookupIn(file: AuthFile, registry: string, repository?: string): Credentials | undefined {
  const auths = file.auths;
  if (!auths || typeof auths !== "object") return undefined;
  // most specific first: host/ns/repo, host/ns, host
  if (repository) {
    const parts = repository.split("/");
    for (let n = parts.length; n >= 1; n--) {
      const e = auths[`${registry}/${parts.slice(0, n).join("/")}`];
      if (e) {
        const c = decodeAuthEntry(e);
        if (c) return c;
      }
    }
  }
  for (const k of keysFor(registry)) {
    const e = auths[k];
    if (e) {
      const c = decodeAuthEntry(e);
      if (c) return c;
    }
  }
  return undefined;
}

/** Finds stored credentials for `registry` (and optionally a repository in it); undefined when none. */
export async function findCredentials(
  registry: string,
  repository?: string,
  o?: CredentialOptions,
): Promise<Credentials | undefined> {
  for (const f of credentialFiles(o)) {
    const file = await readAuthFile(f);
    if (!file) continue;
    const c = lookupIn(file, registry, repository);
    if (c) return c;
  }
  return undefined;
}

async function writeAuthFile(path: string, file: AuthFile): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${dir}/.auth-${Deno.pid}-${Date.now().toString(36)}`;
  const f = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
  try {
    await f.write(new TextEncoder().encode(JSON.stringify(file, null, "\t") + "\n"));
    await f.syncData();
  } finally {
    f.close();
  }
  try {
    await Deno.chmod(tmp, 0o600);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Stores credentials for `key` (a registry, optionally with a repository path) in the auth file (mode 0600). */
export async function saveCredentials(key: string, c: Credentials, o?: CredentialOptions): Promise<string> {
  const path = authFilePath(o);
  const file = (await readAuthFile(path)) ?? {};
  const auths = (file.auths && typeof file.auths === "object") ? file.auths : {};
  auths[normalizeAuthKey(key)] = { auth: encodeAuth(c) };
  file.auths = auths;
  await writeAuthFile(path, file);
  return path;
}

/**
 * Removes credentials for `key` (or all with `key === undefined`) from the auth file.
 * Returns whether anything was removed.
 */
export async function removeCredentials(key: string | undefined, o?: CredentialOptions): Promise<boolean> {
  const path = authFilePath(o);
  const file = await readAuthFile(path);
  if (!file || !file.auths) return false;
  if (key === undefined) {
    const had = Object.keys(file.auths).length > 0;
    file.auths = {};
    if (had) await writeAuthFile(path, file);
    return had;
  }
  const k = normalizeAuthKey(key);
  const candidates = k.includes("/") ? [k] : keysFor(k);
  let removed = false;
  for (const c of candidates) {
    if (c in file.auths) {
      delete file.auths[c];
      removed = true;
    }
  }
  if (removed) await writeAuthFile(path, file);
  return removed;
}

/** True when credentials for `key` exist in a file other than pod's own auth file (e.g. Docker's). */
export async function credentialsElsewhere(key: string, o?: CredentialOptions): Promise<string | undefined> {
  const own = authFilePath(o);
  const k = normalizeAuthKey(key);
  for (const f of credentialFiles(o)) {
    if (f === own) continue;
    const file = await readAuthFile(f);
    if (file && lookupIn(file, k.split("/")[0], k.includes("/") ? k.slice(k.indexOf("/") + 1) : undefined)) {
      return f;
    }
  }
  return undefined;
}
