/**
 * The library's network methods on a temp store: createNetwork, networks, inspectNetwork, removeNetwork, with
 * their error codes (USAGE, EXISTS, NOT_FOUND, IN_USE) — no container runtime needed, so it runs as any user.
 */
import assert from "node:assert/strict";
import { Pod, PodError } from "../../mod.ts";

const code = (c: string) => (e: unknown) => e instanceof PodError && e.code === c;

Deno.test("Pod network methods: create, list, inspect, remove", async () => {
  const root = await Deno.makeTempDir({ prefix: "pod-netapi-" });
  try {
    const pod = await Pod.open({ root });
    assert.deepEqual((await pod.networks()).map((n) => n.name), ["podman"]);
    const n = await pod.createNetwork({ name: "api1", subnets: ["10.236.0.0/24"], labels: { a: "b" } });
    assert.deepEqual(n.subnets, [{ subnet: "10.236.0.0/24", gateway: "10.236.0.1" }]);
    assert.deepEqual(n.labels, { a: "b" });
    const again = await pod.createNetwork({ name: "api1", ignore: true });
    assert.equal(again.id, n.id);
    await assert.rejects(pod.createNetwork({ name: "api1" }), code("EXISTS"));
    await assert.rejects(pod.createNetwork({ name: "x", subnets: ["10.236.0.0/25"] }), code("USAGE"));
    await assert.rejects(pod.createNetwork({ name: "x", subnets: ["nope"] }), code("USAGE"));
    const auto = await pod.createNetwork({});
    assert.match(auto.name, /^podman\d+$/);
    assert.deepEqual((await pod.networks()).map((x) => x.name), ["api1", "podman", auto.name]);
    assert.deepEqual(await pod.inspectNetwork(n.id.slice(0, 10)), n);
    await assert.rejects(pod.inspectNetwork("nope"), code("NOT_FOUND"));
    await pod.removeNetwork("api1");
    await assert.rejects(pod.removeNetwork("api1"), code("NOT_FOUND"));
    await assert.rejects(pod.removeNetwork("podman"), code("USAGE"));
    // a container's record naming the network makes it in use
    const id = "c".repeat(64);
    await Deno.mkdir(`${root}/containers/names`, { recursive: true });
    await Deno.mkdir(`${root}/containers/${id}`);
    const config = {
      id,
      name: "fake",
      created: new Date().toISOString(),
      networks: { [auto.name]: { interface_name: "eth0" } },
    };
    await Deno.writeTextFile(`${root}/containers/${id}/config.json`, JSON.stringify(config));
    await Deno.symlink(id, `${root}/containers/names/fake`);
    await assert.rejects(
      pod.removeNetwork(auto.name),
      (e) => code("IN_USE")(e) && (e as PodError).exitCode === 2,
    );
    await Deno.remove(`${root}/containers/names/fake`);
    await pod.removeNetwork(auto.name);
    assert.deepEqual((await pod.networks()).map((x) => x.name), ["podman"]);
    // files that are not networks are skipped with a warning (as podman), never an error
    const warnings: string[] = [];
    const watched = await Pod.open({
      root,
      onEvent: (e) => e.type === "warning" && warnings.push(e.message),
    });
    await Deno.writeTextFile(`${root}/networks/broken.json`, "{not json");
    await Deno.writeTextFile(`${root}/networks/other.json`, JSON.stringify({ ...n, name: "renamed" }));
    await Deno.writeTextFile(`${root}/networks/notes.txt`, "ignored");
    assert.deepEqual((await watched.networks()).map((x) => x.name), ["podman"]);
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.match(warnings.join("\n"), /broken\.json/);
    assert.match(warnings.join("\n"), /the name renamed does not match the file name/);
    await Deno.remove(`${root}/networks/broken.json`);
    await Deno.remove(`${root}/networks/other.json`);
    // concurrent creates (the store lock): each its own subnet and bridge
    const many = await Promise.all([1, 2, 3, 4, 5].map((i) => pod.createNetwork({ name: `par${i}` })));
    assert.equal(new Set(many.map((m) => m.subnets?.[0].subnet)).size, 5);
    assert.equal(new Set(many.map((m) => m.network_interface)).size, 5);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
