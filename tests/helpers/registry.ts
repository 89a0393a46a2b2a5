/**
 * Start Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 for tests: anonymous, htpasswd Basic auth, or
 * token auth backed by {@linkcode startTokenServer}.
 *
 * ```ts
 * const reg = await startRegistry({ auth: "basic" });
 * try {
 *   // reg.host = "127.0.0.1:PORT", reg.user / reg.password
 * } finally {
 *   await reg.stop();
 * }
 * ```
 * @module
 */

import { startTokenServer, type TokenServer } from "./token_server.ts";

/** Kind of authentication the registry requires. */
export type RegistryAuth = "none" | "basic" | "token";

/** Options of {@linkcode startRegistry}. */
export interface RegistryOptions {
  /** Authentication. Default `"none"`. */
  auth?: RegistryAuth;
  /** User name for `basic`/`token`. Default `testuser`. */
  user?: string;
  /** Password for `basic`/`token`. Default `testpassword`. */
  password?: string;
  /** Token auth only: anonymous clients get pull-only tokens instead of a 401 from the token server. */
  anonymousPull?: boolean;
  /** Registry log level (`error`, `warn`, `info`, `debug`). Default `info`. */
  logLevel?: string;
  /**
   * Serve HTTPS with this certificate and key (PEM files); `clientCa`: also require a client certificate
   * signed by that CA. `ca` (PEM text) is what the readiness check trusts.
   */
  tls?: { certPath: string; keyPath: string; ca: string; clientCa?: string };
}

/** A running registry. */
export interface Registry {
  /** `127.0.0.1:PORT` (use as the registry part of an image reference). */
  host: string;
  /** `http://127.0.0.1:PORT` (`https://` with {@linkcode RegistryOptions.tls}). */
  url: string;
  /** The auth mode. */
  auth: RegistryAuth;
  /** The user (for `basic`/`token`), `undefined` for anonymous registries. */
  user?: string;
  /** The password (for `basic`/`token`), `undefined` for anonymous registries. */
  password?: string;
  /** The registry's temp dir (config, htpasswd, log, storage). */
  dir: string;
  /** The storage root directory. */
  storageDir: string;
  /** Path of the registry's combined stdout/stderr log. */
  logPath: string;
  /** The pid of the `docker-registry` process. */
  pid: number;
  /** The token server (token auth only). */
  tokenServer?: TokenServer;
  /** Read the registry log (for failure messages). */
  log: () => Promise<string>;
  /** Kill exactly the spawned registry (and the token server), remove the temp dir. Idempotent. */
  stop: () => Promise<void>;
}

const REGISTRY_BIN = "/usr/bin/docker-registry";

/** Find a free TCP port on 127.0.0.1 (bind to port 0, read it, close). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Whether the registry binary is installed. */
export async function registryAvailable(): Promise<boolean> {
  try {
    return (await Deno.stat(REGISTRY_BIN)).isFile;
  } catch {
    return false;
  }
}

let setprivP: Promise<boolean> | undefined;
function setprivAvailable(): Promise<boolean> {
  setprivP ??= new Deno.Command("setpriv", { args: ["--help"], stdout: "null", stderr: "null" }).output()
    .then((o) => o.success, () => false);
  return setprivP;
}

async function makeHtpasswd(user: string, password: string): Promise<string> {
  const out = await new Deno.Command("htpasswd", {
    args: ["-Bbn", user, password],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`htpasswd failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim() + "\n";
}

function configYaml(o: {
  port: number;
  storage: string;
  logLevel: string;
  auth: string;
  tls?: RegistryOptions["tls"];
}): string {
  return [
    "version: 0.1",
    "log:",
    `  level: ${o.logLevel}`,
    "  accesslog:",
    "    disabled: false",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${o.storage}`,
    "  delete:",
    "    enabled: true",
    "  maintenance:",
    "    uploadpurging:",
    "      enabled: false",
    "http:",
    `  addr: 127.0.0.1:${o.port}`,
    `  secret: ${crypto.randomUUID()}`,
    "  headers:",
    "    X-Content-Type-Options: [nosniff]",
    ...(o.tls
      ? [
        "  tls:",
        `    certificate: ${o.tls.certPath}`,
        `    key: ${o.tls.keyPath}`,
        ...(o.tls.clientCa ? ["    clientcas:", `      - ${o.tls.clientCa}`] : []),
      ]
      : []),
    o.auth,
    "",
  ].join("\n");
}

async function waitReady(
  url: string,
  child: Deno.ChildProcess,
  exited: { done: boolean },
  tls?: RegistryOptions["tls"],
): Promise<boolean> {
  void child;
  if (tls) {
    // a client certificate is required: the TLS listener being up is enough
    if (tls.clientCa) return await waitListening(url, exited);
    using client = Deno.createHttpClient({ caCerts: [tls.ca] });
    return await waitReadyWith(url, exited, client);
  }
  return await waitReadyWith(url, exited);
}

async function waitListening(url: string, exited: { done: boolean }): Promise<boolean> {
  const port = Number(new URL(url).port);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (exited.done) return false;
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return false;
}

async function waitReadyWith(
  url: string,
  exited: { done: boolean },
  client?: Deno.HttpClient,
): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (exited.done) return false;
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000), client });
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/**
 * Start a registry on 127.0.0.1 with a random free port and storage in a temp dir; resolves once `/v2/` answers.
 * Throws (with the registry log) when it does not come up.
 */
export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  const auth = opts.auth ?? "none";
  const user = opts.user ?? "testuser";
  const password = opts.password ?? "testpassword";
  const dir = await Deno.makeTempDir({ prefix: "pod-registry-" });
  const storageDir = `${dir}/storage`;
  await Deno.mkdir(storageDir);
  const logPath = `${dir}/registry.log`;
  let tokenServer: TokenServer | undefined;
  let authYaml = "";
  try {
    if (auth === "basic") {
      await Deno.writeTextFile(`${dir}/htpasswd`, await makeHtpasswd(user, password));
      authYaml = ["auth:", "  htpasswd:", "    realm: pod-test-realm", `    path: ${dir}/htpasswd`].join(
        "\n",
      );
    } else if (auth === "token") {
      await Deno.mkdir(`${dir}/token`);
      tokenServer = await startTokenServer({
        user,
        password,
        anonymousPull: opts.anonymousPull,
        dir: `${dir}/token`,
      });
      authYaml = [
        "auth:",
        "  token:",
        `    realm: ${tokenServer.realm}`,
        `    service: ${tokenServer.service}`,
        `    issuer: ${tokenServer.issuer}`,
        `    rootcertbundle: ${tokenServer.certPath}`,
      ].join("\n");
    }
  } catch (e) {
    await tokenServer?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }

  let lastLog = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = freePort();
    const url = `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`;
    const configPath = `${dir}/config.yml`;
    await Deno.writeTextFile(
      configPath,
      configYaml({
        port,
        storage: storageDir,
        logLevel: opts.logLevel ?? "info",
        auth: authYaml,
        tls: opts.tls,
      }),
    );
    const logFile = await Deno.open(logPath, { write: true, create: true, append: true });
    // setpriv --pdeathsig: the registry dies with the test process even if stop() never runs (setpriv execs, so
    // the pid is the registry's).
    const child = new Deno.Command(await setprivAvailable() ? "setpriv" : REGISTRY_BIN, {
      args: await setprivAvailable()
        ? ["--pdeathsig", "SIGKILL", "--", REGISTRY_BIN, "serve", configPath]
        : ["serve", configPath],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Both streams into the one log file.
    const pumps = Promise.all([child.stdout, child.stderr].map(async (s) => {
      for await (const chunk of s) {
        try {
          await logFile.write(chunk);
        } catch {
          // file closed
        }
      }
    }));
    const exited = { done: false };
    const statusP = child.status.then((s) => {
      exited.done = true;
      return s;
    });
    if (await waitReady(url, child, exited, opts.tls)) {
      let stopped = false;
      return {
        host: `127.0.0.1:${port}`,
        url,
        auth,
        user: auth === "none" ? undefined : user,
        password: auth === "none" ? undefined : password,
        dir,
        storageDir,
        logPath,
        pid: child.pid,
        tokenServer,
        log: () => Deno.readTextFile(logPath).catch(() => ""),
        stop: async () => {
          if (stopped) return;
          stopped = true;
          if (!exited.done) {
            try {
              Deno.kill(child.pid, "SIGTERM");
            } catch {
              // already gone
            }
            const t = setTimeout(() => {
              try {
                if (!exited.done) Deno.kill(child.pid, "SIGKILL");
              } catch {
                // gone
              }
            }, 3000);
            await statusP;
            clearTimeout(t);
          }
          await pumps;
          logFile.close();
          await tokenServer?.stop();
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        },
      };
    }
    // Failed: kill if alive, collect the log, retry on another port (port race) a few times.
    if (!exited.done) {
      try {
        Deno.kill(child.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    await statusP;
    await pumps;
    logFile.close();
    lastLog = await Deno.readTextFile(logPath).catch(() => "");
    if (!/address already in use/.test(lastLog)) break;
  }
  await tokenServer?.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  throw new Error(`docker-registry did not start; log:\n${lastLog}`);
}
