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
  const registry = await registryAvailable();
  const rootless = registry && await rootlessAvailable();
  for (const mode of ["root", "rootless"] as const) {
    Deno.test({
      name: `${name} (${mode})`,
      ignore: mode === "root" ? !registry || Deno.uid() !== 0 : !rootless,
      sanitizeOps: false,
      sanitizeResources: false,
      fn: suite(mode),
    });
  }
}

/** `tempPodHome` options for `mode`: the rootless test user, or none. */
function homeFor(mode: Mode): { user?: string } {
  return mode === "rootless" ? { user: TEST_USER } : {};
}

/**
 * The usual suite body: a registry of its own with the busybox fixture, a temp store for `mode` that has
 * pulled it; afterwards every container is removed at once (`rm -f -t 0 -a`), then the store and the registry.
 */
export function busyboxSuite(
  mode: Mode,
  fn: (s: { h: TempPodHome; img: PushedImage }, t: Deno.TestContext) => Promise<void>,
): (t: Deno.TestContext) => Promise<void> {
  return async (t) => {
    const reg = await startRegistry();
    const h = await tempPodHome(homeFor(mode));
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
