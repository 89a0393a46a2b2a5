/**
 * The library API's pods (`Pod.createPod`, `pods`, `inspectPod`, `startPod`, `stopPod`, `killPod`,
 * `removePod`, `podStats`, `create({ pod })`), as root in this process and rootless as a script run by the
 * rootless test user: see api_pods_scenario.ts. The library prints nothing, so the script's stderr must stay
 * empty.
 */
import assert from "node:assert/strict";
import { busybox } from "../helpers/fixtures.ts";
import { testRootAndRootless } from "../helpers/modes.ts";
import { tempPodHome } from "../helpers/pod.ts";
import { runLibraryScenario } from "../helpers/library_scenario.ts";
import { startRegistry } from "../helpers/registry.ts";
import { TEST_USER } from "../helpers/rootless.ts";
import { apiKubeScenario, apiPodsScenario } from "./api_pods_scenario.ts";
import { registryAvailable } from "../helpers/registry.ts";

const SCRIPT = new URL("./api_pods_scenario.ts", import.meta.url);

await testRootAndRootless("library API: pods", (mode) => async () => {
  const reg = await startRegistry();
  const h = await tempPodHome(mode === "rootless" ? { user: TEST_USER } : {});
  try {
    const img = await busybox(reg);
    const passed = await runLibraryScenario(
      mode,
      h,
      SCRIPT,
      [h.home, img.ref],
      () => apiPodsScenario(h.home, img.ref),
    );
    assert.equal(passed.length, 5, passed.join(", "));
  } finally {
    await h.pod(["rm", "-f", "-t", "0", "-a"]).catch(() => {});
    await h.cleanup();
    await reg.stop();
  }
});

// the kube methods in this process, as root (kube_test.ts covers kube play/down/generate rootless through the
// CLI; the rootless test user's Deno may not have the npm yaml package)
const kubeReady = Deno.uid() === 0 && await registryAvailable();
if (!kubeReady) console.log("library API: kube (root) skipped: needs root and the test registry");
Deno.test({
  name: "library API: kube (root)",
  ignore: !kubeReady,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const reg = await startRegistry();
    const h = await tempPodHome();
    try {
      const img = await busybox(reg);
      const passed = await apiKubeScenario(h.home, img.ref);
      assert.equal(passed.length, 4, passed.join(", "));
    } finally {
      await h.pod(["pod", "rm", "-a", "-f", "-t", "0"]).catch(() => {});
      await h.cleanup();
      await reg.stop();
    }
  },
});
