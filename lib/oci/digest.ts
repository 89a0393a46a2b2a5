/**
 * Content digests (`algorithm:hex`), as the OCI image spec defines them.
 * @module
 */

/** A digest string, e.g. `sha256:<64 hex>`. */
export type Digest = string;

const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256_RE = /^sha256:[a-f0-9]{64}$/;
const SHA512_RE = /^sha512:[a-f0-9]{128}$/;

/**
 * Checks a digest string and returns it. Only sha256 digests are accepted for content pod stores;
 * a well-formed sha512 digest is reported as unsupported, anything else as invalid.
 */
export function validateDigest(s: string): Digest {
  if (SHA256_RE.test(s)) return s;
  if (SHA512_RE.test(s)) throw new Error(`unsupported digest algorithm in "${s}": only sha256 is supported`);
  if (!DIGEST_RE.test(s)) throw new Error(`invalid digest "${s}": want sha256:<64 hex digits>`);
  const alg = s.slice(0, s.indexOf(":"));
  if (alg === "sha256") throw new Error(`invalid digest "${s}": sha256 wants 64 lowercase hex digits`);
  throw new Error(`unsupported digest algorithm in "${s}": only sha256 is supported`);
}

/** The hex part of a sha256 digest (no validation beyond the prefix). */
export function digestHex(d: Digest): string {
  const i = d.indexOf(":");
  return i < 0 ? d : d.slice(i + 1);
}

/** The first 12 hex digits of a digest, as podman shows short ids. */
export function shortDigest(d: Digest): string {
  return digestHex(d).slice(0, 12);
}
