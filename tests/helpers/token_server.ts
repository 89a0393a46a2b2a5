/**
 * A tiny Distribution token server for tests: `Deno.serve` on 127.0.0.1 that checks HTTP Basic credentials and
 * issues RS256 JWTs that Debian's `docker-registry` (distribution 2.8, `auth.token`) accepts.
 *
 * The signing key and a self-signed certificate are made with `openssl` in a temp dir; the certificate is the
 * registry's `rootcertbundle`. Tokens carry the certificate in the `x5c` header (distribution verifies the chain
 * against the bundle and uses the leaf key) and also a libtrust-style `kid` (sha256 of the SPKI DER, 240 bits,
 * base32, `:`-grouped). Checked against distribution 2.8.2: either header alone is accepted.
 * @module
 */

/** Options of {@linkcode startTokenServer}. */
export interface TokenServerOptions {
  /** The accepted user name. Default `testuser`. */
  user?: string;
  /** The accepted password. Default `testpassword`. */
  password?: string;
  /** `service` claim (`aud`) the registry expects. Default `pod-test-registry`. */
  service?: string;
  /** `iss` claim the registry expects. Default `pod-test-issuer`. */
  issuer?: string;
  /** Give anonymous clients (no Authorization) a token with `pull` access only. Default false: 401. */
  anonymousPull?: boolean;
  /** Token lifetime in seconds. Default 300. */
  expiresIn?: number;
  /** Directory for key, certificate; a new temp dir when omitted (removed by `stop()`). */
  dir?: string;
}

/** One issued token, as recorded by the server (for assertions). */
export interface IssuedToken {
  /** `account` the token was issued to (`""` for anonymous). */
  account: string;
  /** The `scope` query parameters of the request. */
  scopes: string[];
  /** The `service` query parameter. */
  service: string | null;
}

/** A running token server. */
export interface TokenServer {
  /** `http://127.0.0.1:PORT/token`: the registry's `realm`. */
  realm: string;
  /** The `service` value. */
  service: string;
  /** The `issuer` value. */
  issuer: string;
  /** Path of the PEM certificate to use as `rootcertbundle`. */
  certPath: string;
  /** Path of the PKCS#8 PEM private key. */
  keyPath: string;
  /** Every request answered with a token, in order. */
  issued: IssuedToken[];
  /** Number of requests rejected with 401. */
  rejected: () => number;
  /** Mint a token directly (without HTTP), e.g. to test expiry or wrong scopes. */
  mint: (account: string, access: TokenAccess[], opts?: MintOptions) => Promise<string>;
  /** Stop the server and remove its temp dir (when it made one). */
  stop: () => Promise<void>;
}

/** Options of {@linkcode TokenServer.mint}. */
export interface MintOptions {
  /** Lifetime in seconds (negative: already expired). */
  expiresIn?: number;
  /** Override the `iss` claim. */
  issuer?: string;
  /** Override the `aud` claim. */
  audience?: string;
  /** Which key identification to put in the JOSE header. Default `"both"` (`x5c` chain and libtrust `kid`). */
  header?: "x5c" | "kid" | "both";
}

/** One `access` claim entry. */
export interface TokenAccess {
  /** Resource type, e.g. `repository`. */
  type: string;
  /** Resource name, e.g. `library/busybox`. */
  name: string;
  /** Granted actions, e.g. `["pull", "push"]`. */
  actions: string[];
}

function b64url(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function pemToDer(pem: string, label: string): Uint8Array {
  const m = pem.match(new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`));
  if (!m) throw new Error(`no ${label} in PEM`);
  const bin = atob(m[1].replace(/\s+/g, ""));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** RFC 4648 base32 without padding (libtrust key ids). */
function base32(bytes: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0, out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** libtrust key id: sha256 of the DER SubjectPublicKeyInfo, first 240 bits, base32, groups of 4 joined by ':'. */
async function libtrustKeyId(spki: Uint8Array): Promise<string> {
  const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", spki as BufferSource));
  const b32 = base32(sum.slice(0, 30));
  const groups: string[] = [];
  for (let i = 0; i < b32.length; i += 4) groups.push(b32.slice(i, i + 4));
  return groups.join(":");
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Parse a `scope` value (`repository:name:pull,push`) into an access entry. */
function parseScope(scope: string): TokenAccess | null {
  const last = scope.lastIndexOf(":");
  const first = scope.indexOf(":");
  if (first < 0 || last <= first) return null;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope.slice(last + 1).split(",").filter((a) => a !== ""),
  };
}

/**
 * Start a token server on 127.0.0.1 with a random port.
 *
 * `GET /token?service=…&scope=…` with HTTP Basic credentials returns `{token, access_token, expires_in, issued_at}`;
 * the token grants every requested action. Bad credentials → 401.
 */
export async function startTokenServer(opts: TokenServerOptions = {}): Promise<TokenServer> {
  const user = opts.user ?? "testuser";
  const password = opts.password ?? "testpassword";
  const service = opts.service ?? "pod-test-registry";
  const issuer = opts.issuer ?? "pod-test-issuer";
  const expiresIn = opts.expiresIn ?? 300;
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "pod-token-" });
  const keyPath = `${dir}/token.key`;
  const certPath = `${dir}/token.crt`;
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    certPath,
    "-days",
    "3650",
    "-subj",
    "/CN=pod-test-token",
  ]);
  const keyPem = await Deno.readTextFile(keyPath);
  const certPem = await Deno.readTextFile(certPath);
  const certDer = pemToDer(certPem, "CERTIFICATE");
  const spkiPem = await run("openssl", ["pkey", "-in", keyPath, "-pubout"]);
  const kid = await libtrustKeyId(pemToDer(spkiPem, "PUBLIC KEY"));
  const key = await crypto.subtle.importKey(
    "pkcs8",
    pemToDer(keyPem, "PRIVATE KEY") as BufferSource,
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const x5c = [btoa(String.fromCharCode(...certDer))];

  const mint = async (
    account: string,
    access: TokenAccess[],
    o: MintOptions = {},
  ): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const mode = o.header ?? "both";
    const header: Record<string, unknown> = { typ: "JWT", alg: "RS256" };
    if (mode !== "x5c") header.kid = kid;
    if (mode !== "kid") header.x5c = x5c;
    const claims = {
      iss: o.issuer ?? issuer,
      sub: account,
      aud: o.audience ?? service,
      exp: now + (o.expiresIn ?? expiresIn),
      nbf: now - 10,
      iat: now,
      jti: crypto.randomUUID(),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = new Uint8Array(
      await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, new TextEncoder().encode(signingInput)),
    );
    return `${signingInput}.${b64url(sig)}`;
  };

  const issued: IssuedToken[] = [];
  let rejected = 0;
  const expected = "Basic " + btoa(`${user}:${password}`);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname !== "/token") return new Response("not found", { status: 404 });
    const authz = req.headers.get("authorization");
    let account = "";
    let anonymous = false;
    if (authz === null) {
      if (!opts.anonymousPull) {
        rejected++;
        return new Response(JSON.stringify({ details: "authentication required" }), {
          status: 401,
          headers: { "content-type": "application/json", "www-authenticate": 'Basic realm="pod-token"' },
        });
      }
      anonymous = true;
    } else if (authz !== expected) {
      rejected++;
      return new Response(JSON.stringify({ details: "invalid credentials" }), {
        status: 401,
        headers: { "content-type": "application/json" },
      });
    } else {
      account = user;
    }
    const scopes = url.searchParams.getAll("scope").flatMap((s) => s.split(" ")).filter((s) => s !== "");
    const access: TokenAccess[] = [];
    for (const s of scopes) {
      const a = parseScope(s);
      if (!a) continue;
      if (anonymous) a.actions = a.actions.filter((x) => x === "pull");
      access.push(a);
    }
    issued.push({ account, scopes, service: url.searchParams.get("service") });
    const token = await mint(account, access);
    return Response.json({
      token,
      access_token: token,
      expires_in: expiresIn,
      issued_at: new Date().toISOString(),
    });
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    realm: `http://127.0.0.1:${addr.port}/token`,
    service,
    issuer,
    certPath,
    keyPath,
    issued,
    rejected: () => rejected,
    mint,
    stop: async () => {
      await server.shutdown();
      if (ownDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
