/**
 * Suites that run twice: as root, and as the rootless test user ({@link TEST_USER}, with its /etc/subuid
 * range) in a user namespace. Each needs the local registry; the rootless one needs the rootless set-up too.
 * @module
 */

import { busybox, type PushedImage } from "./fixtures.ts";
import { type TempPodHome, tempPodHome } from "./pod.ts";
import { registryAvailable, startRegistry } from "./registry.ts";
import { rootlessAvailable, TEST_USER } from "./rootless.ts";

/** How a suite runs pod: as root, or as {@link TEST_USER}. */
export type Mode = "root" | "rootless";

/**
 * Registers `suite` as the tests "`name` (root)" and "`name` (rootless)", each ignored where it cannot run
 * (not root, no registry, no rootless set-up). Resource and op sanitizers are off: the suites start servers
 * and containers that outlive single steps.
 */
export async function testRootAndRootless(
  name: string,
  suite: (mode: Mode) => (t: Deno.TestContext) => Promise<void>,
): Promise<void> {
  for (const mode of ["root", "rootless"] as const) await testIn(mode, `${name} (${mode})`, suite(mode));
}

/**
 * Registers `fn` as the one test `name` that runs in `mode` only, ignored where that mode cannot run (not root,
 * no registry, no rootless set-up). Resource and op sanitizers are off, as in {@link testRootAndRootless}.
 */
export async function testIn(
  mode: Mode,
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
): Promise<void> {
  const registry = await registryAvailable();
  const ignore = mode === "root" ? !registry || Deno.uid() !== 0 : !registry || !(await rootlessAvailable());
  Deno.test({ name, ignore, sanitizeOps: false, sanitizeResources: false, fn });
}

/** `tempPodHome` options for `mode`: the rootless test user, or none; with `env` for every pod it runs. */
function homeFor(mode: Mode, env?: Record<string, string>): { user?: string; env?: Record<string, string> } {
  return { ...(mode === "rootless" ? { user: TEST_USER } : {}), ...(env ? { env } : {}) };
}

/**
 * The usual suite body: a registry of its own with the busybox fixture, a temp store for `mode` that has
 * pulled it; afterwards every container is removed at once (`rm -f -t 0 -a`), then the store and the registry.
 * `opts.env` is added to the environment of every pod the store runs (e.g. `POD_STORAGE_DRIVER`).
 */
export function busyboxSuite(
  mode: Mode,
  fn: (s: { h: TempPodHome; img: PushedImage }, t: Deno.TestContext) => Promise<void>,
  opts: { env?: Record<string, string> } = {},
): (t: Deno.TestContext) => Promise<void> {
  return async (t) => {
    const reg = await startRegistry();
    const h = await tempPodHome(homeFor(mode, opts.env));
    try {
      const img = await busybox(reg);
      const pulled = await h.pod(["pull", "-q", img.ref]);
      if (pulled.code !== 0) throw new Error(`pull ${img.ref}: ${pulled.stderr}`);
      await fn({ h, img }, t);
    } finally {
      await h.pod(["rm", "-f", "-t", "0", "-a"]).catch(() => {});
      await h.cleanup();
      await reg.stop();
    }
  };
}
