/**
 * Listing a registry: `/v2/_catalog` (paginated with `n` and the `Link` header) and `/v2/<name>/tags/list`,
 * each capped, for `search`.
 * @module
 */

import type { RegistryClient } from "./client.ts";
import { RegistryError } from "./http.ts";

/** Cap on one listing page. */
const PAGE_CAP = 4 * 1024 * 1024;

function nextPage(link: string | null): string | undefined {
  const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
  return m?.[1];
}

async function page(c: RegistryClient, path: string, what: string, scope: string, repository?: string) {
  const r = await c.request(path, { what, scope, repository });
  if (r.status !== 200) await c.fail(r, what);
  const next = nextPage(r.header("link"));
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(await r.bytes(PAGE_CAP, what)));
  } catch (e) {
    if (e instanceof RegistryError) throw e;
    throw new RegistryError(`${what}: the registry's answer is not JSON`);
  }
  return { v: v as Record<string, unknown>, next };
}

/** Repository names of the registry, at most `max` (following pages). */
export async function listRepositories(c: RegistryClient, max: number): Promise<string[]> {
  const out: string[] = [];
  let path: string | undefined = `/v2/_catalog?n=${Math.min(max, 1000)}`;
  for (let pages = 0; path && out.length < max && pages < 100; pages++) {
    const { v, next } = await page(
      c,
      path,
      `listing the repositories of ${c.registry}`,
      "registry:catalog:*",
    );
    const names = Array.isArray(v.repositories) ? v.repositories.filter((n) => typeof n === "string") : [];
    out.push(...names);
    path = names.length ? next : undefined;
  }
  return out.slice(0, max);
}

/** Tags of one repository, at most `max`. */
export async function listTags(c: RegistryClient, repository: string, max: number): Promise<string[]> {
  const out: string[] = [];
  let path: string | undefined = `/v2/${repository}/tags/list`;
  for (let pages = 0; path && out.length < max && pages < 100; pages++) {
    const what = `listing the tags of ${c.registry}/${repository}`;
    const { v, next } = await page(c, path, what, `repository:${repository}:pull`, repository);
    const tags = Array.isArray(v.tags) ? v.tags.filter((t) => typeof t === "string") : [];
    out.push(...tags);
    path = tags.length ? next : undefined;
  }
  return out.slice(0, max);
}
