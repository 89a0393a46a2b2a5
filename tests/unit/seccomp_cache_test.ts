/** The seccomp filter cache: starts in one process compiling the same filter at once all get it. */
import assert from "node:assert/strict";
import { seccompFilter } from "../../lib/container/seccomp.ts";
import type { ContainerConfig } from "../../lib/store/container_types.ts";

Deno.test("seccompFilter: concurrent first uses of one filter in one process all succeed", async () => {
  for (let round = 0; round < 10; round++) await concurrentFirstUse();
});

async function concurrentFirstUse(): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "pod-test-seccomp-" });
  try {
    const c = { process: {}, security: {} } as unknown as ContainerConfig;
    const files = await Promise.all(Array.from({ length: 16 }, () => seccompFilter(root, c)));
    assert.ok(files[0]);
    assert.ok(files.every((f) => f === files[0]), files.join(", "));
    assert.ok(Deno.statSync(files[0]!).size > 0);
    assert.deepEqual([...Deno.readDirSync(`${root}/seccomp`)].map((e) => e.name), [
      files[0]!.split("/").at(-1),
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
