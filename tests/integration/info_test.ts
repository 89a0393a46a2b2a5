/** `info` in podman's structure (template fields and JSON names) and `version --format`, root and rootless. */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";

await testRootAndRootless("info and version", (mode) =>
  busyboxSuite(mode, async ({ h, img }) => {
    const run = await h.pod(["run", "-d", "--name", "live", img.ref, "sleep", "1000"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await h.pod(["create", "--name", "idle", img.ref, "true"])).code, 0);
    const fields = [
      ".Host.Arch",
      ".Host.OS",
      ".Host.Kernel",
      ".Host.Distribution.Distribution",
      ".Host.Distribution.Version",
      ".Host.OCIRuntime.Name",
      ".Host.OCIRuntime.Path",
      ".Host.OCIRuntime.Version",
      ".Host.Security.Rootless",
      ".Host.Security.SECCOMPEnabled",
      ".Store.GraphRoot",
      ".Store.RunRoot",
      ".Store.GraphDriverName",
      ".Store.ImageStore.Number",
      ".Store.ContainerStore.Number",
      ".Store.ContainerStore.Running",
      ".Store.ContainerStore.Stopped",
      ".Store.ContainerStore.Paused",
      ".Version.Version",
    ];
    const r = await h.pod(["info", "--format", fields.map((f) => `{{${f}}}`).join("|")]);
    assert.equal(r.code, 0, r.stderr);
    const v = Object.fromEntries(r.stdout.trim().split("|").map((x, i) => [fields[i], x]));
    const os = Object.fromEntries(
      (await Deno.readTextFile("/etc/os-release")).split("\n").filter((l) => l.includes("=")).map((l) => {
        const i = l.indexOf("=");
        return [l.slice(0, i), l.slice(i + 1).replace(/"/g, "")];
      }),
    );
    assert.equal(v[".Host.Arch"], Deno.build.arch === "x86_64" ? "amd64" : "arm64");
    assert.equal(v[".Host.OS"], "linux");
    assert.equal(v[".Host.Kernel"], Deno.osRelease());
    assert.equal(v[".Host.Distribution.Distribution"], os.ID);
    assert.equal(v[".Host.Distribution.Version"], os.VERSION_ID);
    assert.equal(v[".Host.OCIRuntime.Name"], "pod");
    assert.ok(v[".Host.OCIRuntime.Path"].startsWith("/"));
    assert.equal(v[".Host.Security.Rootless"], String(mode === "rootless"));
    assert.equal(v[".Host.Security.SECCOMPEnabled"], "true");
    assert.equal(v[".Store.GraphRoot"], h.home);
    assert.equal(v[".Store.GraphDriverName"], "overlay");
    assert.equal(v[".Store.ImageStore.Number"], "1");
    assert.equal(v[".Store.ContainerStore.Number"], "2");
    assert.equal(v[".Store.ContainerStore.Running"], "1");
    assert.equal(v[".Store.ContainerStore.Stopped"], "1");
    assert.equal(v[".Store.ContainerStore.Paused"], "0");
    assert.match(v[".Version.Version"], /^\d+\.\d+\.\d+/);

    const maps = await h.pod(["info", "--format", "{{json .Host.IDMappings}}"]);
    assert.equal(maps.code, 0, maps.stderr);
    const m = JSON.parse(maps.stdout);
    if (mode === "root") assert.deepEqual(m, { GIDMap: null, UIDMap: null });
    else {
      assert.equal(m.UIDMap[0].ContainerID, 0);
      assert.equal(m.UIDMap[0].HostID, h.user!.uid);
      assert.equal(m.UIDMap[1].ContainerID, 1);
      assert.ok(m.UIDMap[1].Size > 1000);
    }
    const reg = await h.pod(["info", "--format", "{{.Registries.search}}"]);
    assert.equal(reg.stdout, "[docker.io]\n");

    // JSON: podman's json names
    const j = JSON.parse((await h.pod(["info"])).stdout);
    assert.equal(j.host.arch, v[".Host.Arch"]);
    assert.equal(j.host.os, "linux");
    assert.equal(j.host.ociRuntime.name, "pod");
    assert.equal(j.host.security.rootless, mode === "rootless");
    assert.equal(typeof j.host.security.seccompEnabled, "boolean");
    assert.equal(j.store.imageStore.number, 1);
    assert.equal(j.store.containerStore.running, 1);
    assert.equal(j.store.graphRoot, h.home);
    assert.deepEqual(j.registries, { search: ["docker.io"] });
    assert.equal(j.version.Version, v[".Version.Version"]);
    if (mode === "rootless") assert.equal(j.host.idMappings.uidmap[0].host_id, h.user!.uid);

    const bad = await h.pod(["info", "--format", "{{.Nope}}"]);
    assert.equal(bad.code, 125);
    assert.equal(bad.stderr.trim().split("\n").length, 1);

    const ver = await h.pod(["version", "--format", "{{.Client.Version}} {{.Client.OsArch}} {{.Version}}"]);
    assert.equal(ver.code, 0, ver.stderr);
    assert.match(ver.stdout, /^(\S+) linux\/(amd64|arm64) \1\n$/);
    const vj = JSON.parse((await h.pod(["version", "--format", "json"])).stdout);
    assert.equal(vj.Client.Version, v[".Version.Version"]);
    const plain = await h.pod(["version"]);
    assert.match(plain.stdout, /^Client:\s+pod\nVersion:\s+\S+\nAPI Version:/);
  }));
