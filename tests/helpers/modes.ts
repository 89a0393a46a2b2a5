/**
 * Suites that run twice: as root, and as the rootless test user ({@link TEST_USER}, with its /etc/subuid
 * range) in a user namespace. Each needs the local registry; the rootless one needs the rootless set-up too.
 * @module
 */

import { registryAvailable } from "./registry.ts";
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
export function homeFor(mode: Mode): { user?: string } {
  return mode === "rootless" ? { user: TEST_USER } : {};
}
