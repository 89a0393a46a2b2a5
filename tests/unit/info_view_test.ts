/** `info`'s JSON names: podman's json tags from the Go field names its templates use. */
import assert from "node:assert/strict";
import { infoJson } from "../../lib/cli/views/info.ts";

Deno.test("info JSON uses podman's names; Version and Registries keep theirs", () => {
  const go = {
    Host: {
      Arch: "amd64",
      OS: "linux",
      CPUs: 2,
      OCIRuntime: { Name: "pod", Path: "/x" },
      Security: { Rootless: true, SECCOMPEnabled: true, SELinuxEnabled: false, AppArmorEnabled: false },
      IDMappings: { UIDMap: [{ ContainerID: 0, HostID: 1000, Size: 1 }], GIDMap: null },
      Distribution: { Distribution: "debian", Version: "12" },
    },
    Store: { GraphRoot: "/s", ImageStore: { Number: 1 }, ContainerStore: { Number: 2, Running: 1 } },
    Registries: { search: ["docker.io"] },
    Version: { APIVersion: "1", Version: "1", OsArch: "linux/amd64" },
  };
  assert.deepEqual(infoJson(go), {
    host: {
      arch: "amd64",
      os: "linux",
      cpus: 2,
      ociRuntime: { name: "pod", path: "/x" },
      security: { rootless: true, seccompEnabled: true, selinuxEnabled: false, apparmorEnabled: false },
      idMappings: { uidmap: [{ container_id: 0, host_id: 1000, size: 1 }], gidmap: null },
      distribution: { distribution: "debian", version: "12" },
    },
    store: { graphRoot: "/s", imageStore: { number: 1 }, containerStore: { number: 2, running: 1 } },
    registries: { search: ["docker.io"] },
    version: { APIVersion: "1", Version: "1", OsArch: "linux/amd64" },
  });
});
