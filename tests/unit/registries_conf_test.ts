import assert from "node:assert/strict";
import { insecureRegistries } from "../../lib/registry/registries_conf.ts";

Deno.test("registries.conf: v2 [[registry]] insecure entries, v1 [registries.insecure], mirrors and paths ignored", () => {
  const v2 = `
unqualified-search-registries = ["docker.io"]  # a comment

[[registry]]
location = "127.0.0.1:5000"
insecure = true

[[registry]]
prefix = "example.com:8443"
location = "mirror.example.com"
insecure = true

[[registry]]
location = "secure.example.com"
insecure = false

[[registry]]
location = "quay.io"
[[registry.mirror]]
location = "mirror.local"
insecure = true

[[registry]]
location = "example.org/only/this/repo"
insecure = true
`;
  assert.deepEqual(insecureRegistries(v2), ["127.0.0.1:5000", "example.com:8443"]);
  const v1 = `
[registries.search]
registries = ['docker.io']

[registries.insecure]
registries = [
  'localhost:5000',  # one
  "10.0.0.1:5000",
]
`;
  assert.deepEqual(insecureRegistries(v1), ["localhost:5000", "10.0.0.1:5000"]);
  assert.deepEqual(insecureRegistries(""), []);
});

Deno.test("registries.conf.d: drop-ins replace entries by prefix in order, v1 drop-ins ignored, longest prefix wins", async () => {
  const { mergeRegistriesConf, findRegistry } = await import("../../lib/registry/registries_conf.ts");
  const main = `
[[registry]]
location = "a.test:5000"
insecure = true

[[registry]]
location = "b.test"
insecure = true
`;
  const d10 = `
[[registry]]
location = "a.test:5000"
insecure = false
blocked = false

[[registry]]
location = "c.test:5000"
insecure = true
`;
  const d20 = `
[[registry]]
location = "a.test:5000"
insecure = true
`;
  const v1 = `
[registries.insecure]
registries = ["d.test"]
`;
  const wild = `
[[registry]]
prefix = "*.corp.test"
location = "mirror.corp.test"
insecure = true

[[registry]]
location = "reg2.corp.test"
`;
  const insecure = (m: ReturnType<typeof mergeRegistriesConf>, h: string) =>
    findRegistry(m, h)?.insecure === true;
  // order matters: 10 then 20 (20 wins), or 20 then 10 (10 wins: its entry says nothing of insecure → false)
  let m = mergeRegistriesConf(main, [d10, d20]);
  assert.equal(insecure(m, "a.test:5000"), true);
  m = mergeRegistriesConf(main, [d20, d10]);
  assert.equal(insecure(m, "a.test:5000"), false);
  assert.equal(insecure(m, "b.test"), true, "an entry no drop-in names stays");
  assert.equal(insecure(m, "b.test:443"), true, "podman's quirk: HOST:PORT matches HOST");
  assert.equal(insecure(m, "c.test:5000"), true, "a drop-in adds entries");
  assert.equal(insecure(m, "c.test:5001"), false);
  m = mergeRegistriesConf("", [v1]);
  assert.equal(insecure(m, "d.test"), false, "v1 in a drop-in is not read");
  m = mergeRegistriesConf(v1, []);
  assert.equal(insecure(m, "d.test"), true, "v1 in the main file is");
  m = mergeRegistriesConf("", [wild]);
  assert.equal(insecure(m, "reg.corp.test:5000"), true, "*.corp.test covers subdomains");
  assert.equal(insecure(m, "reg2.corp.test"), false, "the longer prefix wins over the wildcard");
  assert.equal(insecure(m, "corp.test"), false);
});

Deno.test("registries.conf.d: files read in podman's order (system dir, then the user's; user main file → user dir only)", async () => {
  const { loadRegistriesConf, findRegistry, registriesConfSources } = await import(
    "../../lib/registry/registries_conf.ts"
  );
  const home = await Deno.makeTempDir();
  const saved = { HOME: Deno.env.get("HOME"), CONF: Deno.env.get("CONTAINERS_REGISTRIES_CONF") };
  try {
    Deno.env.set("HOME", home);
    const main = `${home}/main.conf`;
    await Deno.writeTextFile(main, `[[registry]]\nlocation = "r.test:1"\ninsecure = true\n`);
    Deno.env.set("CONTAINERS_REGISTRIES_CONF", main);
    const dir = `${home}/.config/containers/registries.conf.d`;
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(`${dir}/20-b.conf`, `[[registry]]\nlocation = "r.test:1"\ninsecure = true\n`);
    await Deno.writeTextFile(`${dir}/10-a.conf`, `[[registry]]\nlocation = "r.test:1"\n`);
    await Deno.writeTextFile(`${dir}/30-c.conf.bak`, `[[registry]]\nlocation = "r.test:1"\n`);
    assert.deepEqual((await registriesConfSources()).dirs, ["/etc/containers/registries.conf.d", dir]);
    assert.equal(
      findRegistry(await loadRegistriesConf(), "r.test:1")?.insecure,
      true,
      "20-b after 10-a; .bak skipped",
    );
    await Deno.rename(`${dir}/20-b.conf`, `${dir}/05-b.conf`);
    assert.equal(findRegistry(await loadRegistriesConf(), "r.test:1")?.insecure, false);
    // a per-user main file (no env): only the user's directory
    Deno.env.delete("CONTAINERS_REGISTRIES_CONF");
    await Deno.writeTextFile(`${home}/.config/containers/registries.conf`, "");
    assert.deepEqual(await registriesConfSources(), {
      main: `${home}/.config/containers/registries.conf`,
      dirs: [dir],
    });
  } finally {
    for (const [k, v] of [["HOME", saved.HOME], ["CONTAINERS_REGISTRIES_CONF", saved.CONF]] as const) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
    await Deno.remove(home, { recursive: true });
  }
});
