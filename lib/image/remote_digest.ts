/**
 * The digest a registry serves for a reference now (its top-level manifest or index), without pulling: what
 * `auto-update` compares with the local image to see whether an update is pending.
 * @module
 */

import { describeError, PodError, UsageError } from "../errors.ts";
import { parseReference } from "../oci/reference.ts";
import { RegistryClient } from "../registry/client.ts";
import type { Credentials } from "../registry/credentials.ts";

/** Registry options of {@link remoteDigest}. */
export interface RemoteDigestOptions {
  /** `--tls-verify=false`. */
  tlsVerify?: boolean;
  /** `--authfile`. */
  authFile?: string;
  /** `--creds`. */
  credentials?: Credentials;
}

/** The `sha256:` digest the registry serves for `reference`. */
export async function remoteDigest(reference: string, opts: RemoteDigestOptions = {}): Promise<string> {
  let ref;
  try {
    ref = parseReference(reference);
  } catch (e) {
    throw new UsageError(describeError(e));
  }
  const client = new RegistryClient(ref.registry, {
    tlsVerify: opts.tlsVerify,
    authFile: opts.authFile,
    credentials: opts.credentials,
  });
  try {
    return (await client.getManifest(ref.repository, ref.digest ?? ref.tag!)).digest;
  } catch (e) {
    if (e instanceof PodError) throw e;
    throw new PodError(`checking ${reference}: ${describeError(e)}`);
  }
}
