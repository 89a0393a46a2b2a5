/**
 * net2: a running container's /etc/hosts and resolv.conf after a live `network connect`/`disconnect`
 * (lib/container/hosts_live.ts): the lines added and removed, the rest kept, the file rewritten in place.
 * @module
 */
import assert from "node:assert/strict";
import {
  addHostsEntry,
  addNameservers,
  removeHostsEntry,
  removeNameservers,
} from "../../lib/container/hosts_live.ts";

const ID = "a".repeat(64);

async function withStore(fn: (root: string, ud: string) => Promise<void> | void): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "pod-hosts-live-" });
  const ud = `${root}/containers/${ID}/userdata`;
  await Deno.mkdir(ud, { recursive: true });
  try {
    await fn(root, ud);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("hosts: a connect adds the address with the names once, a disconnect removes only it", () =>
  withStore((root, ud) => {
    const base = "127.0.0.1\tlocalhost\n10.88.0.5\tweb web-name\n10.0.2.2\thost.containers.internal\n";
    Deno.writeTextFileSync(`${ud}/hosts`, base);
    const ino = Deno.statSync(`${ud}/hosts`).ino;
    const c = { id: ID, name: "web-name", hostname: "web" };
    addHostsEntry(root, c, "10.89.3.7");
    addHostsEntry(root, c, "10.89.3.7");
    assert.equal(Deno.readTextFileSync(`${ud}/hosts`), base + "10.89.3.7\tweb web-name\n");
    assert.equal(Deno.statSync(`${ud}/hosts`).ino, ino, "rewritten in place (the bind mount shows it)");
    removeHostsEntry(root, ID, "10.89.3.7");
    assert.equal(Deno.readTextFileSync(`${ud}/hosts`), base);
    removeHostsEntry(root, ID, "10.88.0.50"); // a prefix of no line's address: nothing removed
    assert.equal(Deno.readTextFileSync(`${ud}/hosts`), base);
  }));

Deno.test("resolv.conf: the network's name servers first, dns.podman searched; removed again", () =>
  withStore((root, ud) => {
    Deno.writeTextFileSync(
      `${ud}/resolv.conf`,
      "search example.test\nnameserver 10.0.2.3\noptions ndots:1\n",
    );
    addNameservers(root, ID, ["10.89.3.1"]);
    assert.equal(
      Deno.readTextFileSync(`${ud}/resolv.conf`),
      "search example.test dns.podman\nnameserver 10.89.3.1\nnameserver 10.0.2.3\noptions ndots:1\n",
    );
    removeNameservers(root, ID, ["10.89.3.1"]);
    assert.equal(
      Deno.readTextFileSync(`${ud}/resolv.conf`),
      "search example.test dns.podman\nnameserver 10.0.2.3\noptions ndots:1\n",
    );
    Deno.writeTextFileSync(`${ud}/resolv.conf`, "");
    addNameservers(root, ID, ["10.89.3.1"]);
    assert.equal(Deno.readTextFileSync(`${ud}/resolv.conf`), "search dns.podman\nnameserver 10.89.3.1\n");
    addNameservers(root, ID, []); // a network without DNS: unchanged
    assert.equal(Deno.readTextFileSync(`${ud}/resolv.conf`), "search dns.podman\nnameserver 10.89.3.1\n");
  }));

Deno.test("no userdata file of its own (another container's network): nothing written", () =>
  withStore((root, ud) => {
    addHostsEntry(root, { id: ID, name: "x", hostname: "x" }, "10.1.1.1");
    addNameservers(root, ID, ["10.1.1.254"]);
    assert.deepEqual([...Deno.readDirSync(ud)], []);
  }));
