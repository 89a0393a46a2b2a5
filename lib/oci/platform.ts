/**
 * Platforms (`os/arch[/variant]`): parsing, normalisation, the host's platform and choosing an index entry.
 * @module
 */

import type { Descriptor, Platform } from "./manifest.ts";

/** A normalised platform to look for. */
export interface PlatformSpec {
  /** Operating system, e.g. `linux`. */
  os: string;
  /** Go architecture name, e.g. `amd64`. */
  architecture: string;
  /** Variant, e.g. `v7`; undefined means "any, preferring the default". */
  variant?: string;
}

const ARCH_ALIASES: Record<string, string> = {
  x86_64: "amd64",
  "x86-64": "amd64",
  aarch64: "arm64",
  armhf: "arm",
  armel: "arm",
  i386: "386",
  i686: "386",
  ppc64el: "ppc64le",
};

/** Maps an architecture name (uname or Deno style) to the Go/OCI name: `x86_64` → `amd64`. */
export function normalizeArch(arch: string): string {
  const a = arch.toLowerCase();
  return ARCH_ALIASES[a] ?? a;
}

/** Normalises a platform: Go architecture names, `arm64/v8` → `arm64` with variant `v8`, etc. */
export function normalizePlatform(p: { os: string; architecture: string; variant?: string }): PlatformSpec {
  const os = p.os.toLowerCase();
  const raw = p.architecture.toLowerCase();
  const architecture = normalizeArch(raw);
  let variant = p.variant?.toLowerCase() || undefined;
  if (architecture === "arm64" && variant === "8") variant = "v8";
  if (architecture === "arm") {
    if (variant === undefined && raw === "armhf") variant = "v7";
    if (variant === undefined && raw === "armel") variant = "v6";
    if (variant && /^[5-8]$/.test(variant)) variant = `v${variant}`;
  }
  if (architecture === "amd64" && variant === "v1") variant = undefined;
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** Parses `os/arch[/variant]` (the `--platform` flag). */
export function parsePlatform(s: string): PlatformSpec {
  const parts = s.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => x.trim() === "")) {
    throw new Error(`invalid platform "${s}": want os/arch[/variant], e.g. linux/arm64`);
  }
  return normalizePlatform({ os: parts[0], architecture: parts[1], variant: parts[2] });
}

/** `os/arch[/variant]`. */
export function formatPlatform(p: { os: string; architecture: string; variant?: string }): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** The platform of this machine (os from `Deno.build.os`, arch mapped to Go names). */
export function hostPlatform(build: { os: string; arch: string } = Deno.build): PlatformSpec {
  const architecture = normalizeArch(build.arch);
  return architecture === "arm64"
    ? { os: build.os, architecture, variant: "v8" }
    : { os: build.os, architecture };
}

/** The variant an image without one is taken to have for an architecture. */
function defaultVariant(arch: string): string | undefined {
  if (arch === "arm64") return "v8";
  if (arch === "arm") return "v7";
  return undefined;
}

/**
 * True when `have` satisfies `want`: same os and architecture and, when `want` names a variant, the same
 * variant (a missing variant counts as the architecture's default, so `arm64` matches `arm64/v8`).
 */
export function platformMatches(want: PlatformSpec, have: Platform | PlatformSpec | undefined): boolean {
  if (!have) return false;
  const h = normalizePlatform(have);
  if (h.os !== want.os || h.architecture !== want.architecture) return false;
  if (want.variant === undefined) return true;
  return (h.variant ?? defaultVariant(h.architecture)) === want.variant;
}

/**
 * Chooses the index entry for a platform: an exact variant match first, then (when `want` has no variant) the
 * entry with the architecture's default variant or none, then any variant. Undefined when nothing fits.
 */
export function selectPlatformManifest(entries: Descriptor[], want: PlatformSpec): Descriptor | undefined {
  const candidates = entries.filter((e) => platformMatches(want, e.platform));
  if (candidates.length === 0) return undefined;
  if (want.variant !== undefined) return candidates[0];
  const def = defaultVariant(want.architecture);
  return candidates.find((e) => {
    const v = normalizePlatform(e.platform!).variant;
    return v === undefined || v === def;
  }) ?? candidates[0];
}
