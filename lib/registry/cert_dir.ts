/**
 * Per-registry TLS files as podman reads them: in a certificates directory, every `*.crt` is a CA to trust
 * (besides the system's), a `NAME.cert` with its `NAME.key` is a client certificate. Without `--cert-dir` the
 * directories are `/etc/containers/certs.d/HOST[:PORT]/`, `/etc/docker/certs.d/HOST[:PORT]/` and (rootless)
 * `~/.config/containers/certs.d/HOST[:PORT]/`; `--cert-dir DIR` replaces them.
 * @module
 */

import { PodError } from "../errors.ts";

/** TLS material for one registry. */
export interface TlsFiles {
  /** PEM CA certificates to trust besides the system's. */
  caCerts: string[];
  /** PEM client certificate (chain). */
  cert?: string;
  /** PEM private key of {@link TlsFiles.cert}. */
  key?: string;
}

/** The directories podman reads for `host` (`HOST[:PORT]`) when no `--cert-dir` is given. */
export function defaultCertDirs(host: string): string[] {
  const dirs = [`/etc/containers/certs.d/${host}`, `/etc/docker/certs.d/${host}`];
  const home = Deno.env.get("HOME");
  if (Deno.uid() !== 0 && home) dirs.unshift(`${home}/.config/containers/certs.d/${host}`);
  return dirs;
}

async function entries(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (!e.isDirectory) out.push(e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return [];
    throw new PodError(`reading certificates directory ${dir}: ${(e as Error).message}`);
  }
  return out.sort();
}

async function readPem(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new PodError(`reading ${path}: ${(e as Error).message}`);
  }
}

/**
 * The TLS files for `host`: from `certDir` when given (an error when it cannot be read), else from podman's
 * default directories. `undefined` when there are none. A client `*.cert` without its `*.key` (or a key
 * without its cert) is an error, as in podman.
 */
export async function loadTlsFiles(host: string, certDir?: string): Promise<TlsFiles | undefined> {
  if (certDir !== undefined) {
    const st = await Deno.stat(certDir).catch(() => null);
    if (!st?.isDirectory) throw new PodError(`certificates directory ${certDir} does not exist`);
  }
  const files: TlsFiles = { caCerts: [] };
  for (const dir of certDir !== undefined ? [certDir] : defaultCertDirs(host)) {
    const names = await entries(dir);
    for (const n of names) {
      if (n.endsWith(".crt")) files.caCerts.push(await readPem(`${dir}/${n}`));
      else if (n.endsWith(".cert")) {
        const key = n.slice(0, -5) + ".key";
        if (!names.includes(key)) throw new PodError(`missing key ${key} for client certificate ${dir}/${n}`);
        if (files.cert === undefined) {
          files.cert = await readPem(`${dir}/${n}`);
          files.key = await readPem(`${dir}/${key}`);
        }
      } else if (n.endsWith(".key") && !names.includes(n.slice(0, -4) + ".cert")) {
        throw new PodError(`missing client certificate ${n.slice(0, -4)}.cert for key ${dir}/${n}`);
      }
    }
  }
  return files.caCerts.length || files.cert ? files : undefined;
}
