import assert from "node:assert/strict";
import {
  authFilePath,
  credentialsElsewhere,
  encodeAuth,
  findCredentials,
  normalizeAuthKey,
  removeCredentials,
  saveCredentials,
} from "../../lib/registry/credentials.ts";

async function withDirs(fn: (env: (k: string) => string | undefined, dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "pod-creds-" });
  const vars: Record<string, string> = { HOME: `${dir}/home`, XDG_RUNTIME_DIR: `${dir}/run` };
  try {
    await fn((k) => vars[k], dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("credentials: auth file location", () => {
  assert.equal(
    authFilePath({ env: (k) => ({ REGISTRY_AUTH_FILE: "/a/b.json" } as Record<string, string>)[k] }),
    "/a/b.json",
  );
  assert.equal(
    authFilePath({ env: (k) => ({ XDG_RUNTIME_DIR: "/run/user/7" } as Record<string, string>)[k] }),
    "/run/user/7/containers/auth.json",
  );
  assert.equal(authFilePath({ env: () => undefined }), `/run/user/${Deno.uid()}/containers/auth.json`);
  assert.equal(authFilePath({ authFile: "/x.json", env: () => "/y" }), "/x.json");
});

Deno.test("credentials: save, find, remove (mode 0600, containers-auth format)", async () => {
  await withDirs(async (env, dir) => {
    const o = { env };
    assert.equal(await findCredentials("localhost:5000", undefined, o), undefined);
    const path = await saveCredentials("localhost:5000", { username: "u", password: "p:ä" }, o);
    assert.equal(path, `${dir}/run/containers/auth.json`);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const json = JSON.parse(await Deno.readTextFile(path));
    assert.deepEqual(json, {
      auths: { "localhost:5000": { auth: encodeAuth({ username: "u", password: "p:ä" }) } },
    });
    assert.deepEqual(await findCredentials("localhost:5000", "ns/app", o), {
      username: "u",
      password: "p:ä",
    });
    await saveCredentials("https://quay.io/", { username: "q", password: "w" }, o);
    assert.deepEqual(await findCredentials("quay.io", undefined, o), { username: "q", password: "w" });
    // namespace-specific entries win
    await saveCredentials("quay.io/team", { username: "t", password: "t" }, o);
    assert.equal((await findCredentials("quay.io", "team/app", o))?.username, "t");
    assert.equal((await findCredentials("quay.io", "other/app", o))?.username, "q");
    assert.equal(await removeCredentials("localhost:5000", o), true);
    assert.equal(await removeCredentials("localhost:5000", o), false);
    assert.equal(await findCredentials("localhost:5000", undefined, o), undefined);
    assert.equal(await removeCredentials(undefined, o), true);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(path)).auths, {});
  });
});

Deno.test("credentials: docker config.json is read, other keys are kept", async () => {
  await withDirs(async (env, dir) => {
    await Deno.mkdir(`${dir}/home/.docker`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/home/.docker/config.json`,
      JSON.stringify({
        auths: {
          "https://index.docker.io/v1/": { auth: btoa("hub:secret") },
          "reg.io": { auth: btoa("r:s") },
        },
        credsStore: "desktop",
      }),
    );
    assert.deepEqual(await findCredentials("docker.io", "library/alpine", { env }), {
      username: "hub",
      password: "secret",
    });
    assert.equal((await findCredentials("reg.io", undefined, { env }))?.username, "r");
    assert.equal(await credentialsElsewhere("reg.io", { env }), `${dir}/home/.docker/config.json`);
    // pod's own file is preferred and does not lose unknown keys
    await Deno.mkdir(`${dir}/run/containers`, { recursive: true });
    await Deno.writeTextFile(`${dir}/run/containers/auth.json`, JSON.stringify({ auths: {}, extra: 1 }));
    await saveCredentials("reg.io", { username: "mine", password: "x" }, { env });
    assert.equal((await findCredentials("reg.io", undefined, { env }))?.username, "mine");
    assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/run/containers/auth.json`)).extra, 1);
    // REGISTRY_AUTH_FILE alone is used when set
    const only = (k: string) => k === "REGISTRY_AUTH_FILE" ? `${dir}/only.json` : env(k);
    assert.equal(await findCredentials("reg.io", undefined, { env: only }), undefined);
  });
});

Deno.test("credentials: bad files give clear errors", async () => {
  await withDirs(async (env, dir) => {
    await Deno.mkdir(`${dir}/run/containers`, { recursive: true });
    await Deno.writeTextFile(`${dir}/run/containers/auth.json`, "{nope");
    await assert.rejects(findCredentials("x.io", undefined, { env }), /cannot parse auth file/);
    await Deno.writeTextFile(
      `${dir}/run/containers/auth.json`,
      JSON.stringify({ auths: { "x.io": { auth: "!!" } } }),
    );
    await assert.rejects(findCredentials("x.io", undefined, { env }), /base64/);
  });
});

Deno.test("credentials: key normalisation", () => {
  assert.equal(normalizeAuthKey("https://index.docker.io/v1/"), "docker.io");
  assert.equal(normalizeAuthKey("http://localhost:5000/"), "localhost:5000");
  assert.equal(normalizeAuthKey("quay.io/ns"), "quay.io/ns");
});
