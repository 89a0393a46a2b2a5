/**
 * Registries behind TLS with a certificate no system CA signed (a test CA made by openssl; server certificate
 * for 127.0.0.1): `--tls-verify=false` is HTTPS without verification (pull and push), `--cert-dir` trusts a
 * directory's `*.crt` and presents its `*.cert`/`*.key` client certificate, podman's `certs.d` directories are
 * read without it, and a default pull/push refuses the unknown certificate (one line, exit 125).
 */
import assert from "node:assert/strict";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { busybox } from "../helpers/fixtures.ts";
import { errorLine, isOneLineError, REGISTRY_TEST_ENV, tempPodHome } from "../helpers/pod.ts";
import { type Mode, testRootAndRootless } from "../helpers/modes.ts";
import { TEST_USER } from "../helpers/rootless.ts";

const haveOpenssl =
  (await new Deno.Command("sh", { args: ["-c", "command -v openssl"], stdout: "null" }).output())
    .success;
if (!haveOpenssl) console.log("registry_tls_test: openssl not found, the TLS tests are skipped");

async function openssl(args: string[], cwd: string): Promise<void> {
  const o = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" }).output();
  if (!o.success) throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`);
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA, in `dir`. */
async function makeCerts(dir: string): Promise<void> {
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=pod test CA",
  ], dir);
  for (
    const [name, ext] of [["server", "subjectAltName=IP:127.0.0.1"], [
      "client",
      "extendedKeyUsage=clientAuth",
    ]]
  ) {
    await openssl([
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${name}`,
    ], dir);
    await Deno.writeTextFile(`${dir}/${name}.ext`, ext + "\n");
    await openssl([
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    ], dir);
  }
  // cert dirs as podman reads them: a CA alone; a CA with a client certificate
  await Deno.mkdir(`${dir}/ca-only`);
  await Deno.copyFile(`${dir}/ca.crt`, `${dir}/ca-only/ca.crt`);
  await Deno.mkdir(`${dir}/with-client`);
  await Deno.copyFile(`${dir}/ca.crt`, `${dir}/with-client/ca.crt`);
  await Deno.copyFile(`${dir}/client.pem`, `${dir}/with-client/client.cert`);
  await Deno.copyFile(`${dir}/client.key`, `${dir}/with-client/client.key`);
  await Deno.mkdir(`${dir}/key-only`);
  await Deno.copyFile(`${dir}/client.key`, `${dir}/key-only/client.key`);
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) {
      await Deno.chmod(`${dir}/${e.name}`, 0o755);
      for await (const f of Deno.readDir(`${dir}/${e.name}`)) {
        await Deno.chmod(`${dir}/${e.name}/${f.name}`, 0o644);
      }
    } else await Deno.chmod(`${dir}/${e.name}`, 0o644);
  }
  await Deno.chmod(dir, 0o755);
}

function failsOnCertificate(r: { code: number; stderr: string }, what: string): void {
  assert.equal(r.code, 125, `${what}: ${r.stderr}`);
  assert.ok(isOneLineError(r.stderr), `${what}: ${r.stderr}`);
  assert.match(errorLine(r.stderr), /certificate|tls|ssl|handshake/i, `${what}: ${r.stderr}`);
}

function tlsSuite(mode: Mode): (t: Deno.TestContext) => Promise<void> {
  return async (t) => {
    const user = mode === "rootless" ? { user: TEST_USER } : {};
    const certs = await Deno.makeTempDir({ prefix: "pod-tls-" });
    const regs: Registry[] = [];
    const homes: { cleanup(): Promise<void> }[] = [];
    const home = async () => {
      const h = await tempPodHome({ ...user, env: REGISTRY_TEST_ENV });
      homes.push(h);
      return h;
    };
    let etcDir: string | undefined;
    try {
      await makeCerts(certs);
      const plain = await startRegistry({ logLevel: "error" });
      regs.push(plain);
      const tlsReg = await startRegistry({
        logLevel: "error",
        tls: {
          certPath: `${certs}/server.pem`,
          keyPath: `${certs}/server.key`,
          ca: await Deno.readTextFile(`${certs}/ca.crt`),
        },
      });
      regs.push(tlsReg);
      const img = await busybox(plain);
      const h = await home();
      assert.equal((await h.pod(["pull", "-q", img.ref])).code, 0);
      const dest = `${tlsReg.host}/tls/busybox:1`;

      await t.step("a default push refuses the unknown certificate", async () => {
        failsOnCertificate(await h.pod(["push", "-q", img.ref, dest]), "push");
      });
      await t.step("--tls-verify=false pushes over HTTPS without verification", async () => {
        const r = await h.pod(["push", "-q", "--tls-verify=false", img.ref, dest]);
        assert.equal(r.code, 0, r.stderr);
        // it went over TLS: the registry speaks nothing else
        const cat = await fetch(`${tlsReg.url}/v2/tls/busybox/tags/list`, {
          client: Deno.createHttpClient({ caCerts: [await Deno.readTextFile(`${certs}/ca.crt`)] }),
        });
        assert.deepEqual((await cat.json()).tags, ["1"]);
      });
      await t.step(
        "pull: refused by default, works with --tls-verify=false and with --cert-dir",
        async () => {
          const h2 = await home();
          failsOnCertificate(await h2.pod(["pull", "-q", dest]), "pull");
          const ins = await h2.pod(["pull", "-q", "--tls-verify=false", dest]);
          assert.equal(ins.code, 0, ins.stderr);
          assert.equal(ins.stdout.trim(), img.configDigest.slice(7));
          const h3 = await home();
          const cd = await h3.pod(["pull", "-q", "--cert-dir", `${certs}/ca-only`, dest]);
          assert.equal(cd.code, 0, cd.stderr);
          assert.equal(cd.stdout.trim(), img.configDigest.slice(7));
          // a cert dir without the CA does not help; one that does not exist is an error
          failsOnCertificate(
            await h3.pod(["pull", "-q", "--cert-dir", `${certs}/key-only/..`, dest]),
            "no CA",
          );
          const missing = await h3.pod(["pull", "-q", "--cert-dir", `${certs}/nope`, dest]);
          assert.equal(missing.code, 125, missing.stderr);
          assert.match(errorLine(missing.stderr), /certificates directory .*nope/);
          const keyOnly = await h3.pod(["pull", "-q", "--cert-dir", `${certs}/key-only`, dest]);
          assert.equal(keyOnly.code, 125, keyOnly.stderr);
          assert.match(errorLine(keyOnly.stderr), /client certificate/);
        },
      );
      await t.step("search and login take --cert-dir and --tls-verify=false too", async () => {
        failsOnCertificate(await h.pod(["search", `${tlsReg.host}/tls`]), "search");
        for (const how of [["--cert-dir", `${certs}/ca-only`], ["--tls-verify=false"]]) {
          const s = await h.pod(["search", ...how, "--format", "{{.Name}}", `${tlsReg.host}/tls`]);
          assert.equal(s.code, 0, s.stderr);
          assert.equal(s.stdout, `${tlsReg.host}/tls/busybox\n`);
        }
        failsOnCertificate(await h.pod(["login", "-u", "u", "-p", "p", tlsReg.host]), "login");
        const l = await h.pod(["login", "--cert-dir", `${certs}/ca-only`, "-u", "u", "-p", "p", tlsReg.host]);
        assert.equal(l.code, 0, l.stderr);
      });
      await t.step("a registry marked insecure in registries.conf needs no flag", async () => {
        const conf = `${certs}/registries.conf`;
        await Deno.writeTextFile(conf, `[[registry]]\nlocation = "${tlsReg.host}"\ninsecure = true\n`);
        await Deno.chmod(conf, 0o644);
        const h6 = await home();
        // an explicit --tls-verify=true wins over registries.conf (pull, push, search), as podman
        const env = { CONTAINERS_REGISTRIES_CONF: conf };
        failsOnCertificate(await h6.pod(["pull", "-q", "--tls-verify=true", dest], { env }), "pull explicit");
        failsOnCertificate(
          await h.pod(["push", "-q", "--tls-verify", img.ref, dest], { env }),
          "push explicit",
        );
        failsOnCertificate(
          await h.pod(["search", "--tls-verify=true", `${tlsReg.host}/tls`], { env }),
          "search",
        );
        const pushed = await h.pod(["push", "-q", img.ref, dest], { env });
        assert.equal(pushed.code, 0, pushed.stderr);
        const r = await h6.pod(["pull", "-q", dest], { env: { CONTAINERS_REGISTRIES_CONF: conf } });
        assert.equal(r.code, 0, r.stderr);
        await Deno.writeTextFile(conf, `[[registry]]\nlocation = "${tlsReg.host}"\ninsecure = false\n`);
        const h7 = await home();
        failsOnCertificate(
          await h7.pod(["pull", "-q", dest], { env: { CONTAINERS_REGISTRIES_CONF: conf } }),
          "insecure = false",
        );
      });
      await t.step("registries.conf.d drop-ins are merged in order (the user's directory last)", async () => {
        const conf = `${certs}/registries.conf`;
        await Deno.writeTextFile(conf, `[[registry]]\nlocation = "${tlsReg.host}"\ninsecure = false\n`);
        const h8 = await home();
        const dir = `${h8.userHome}/.config/containers/registries.conf.d`;
        await Deno.mkdir(dir, { recursive: true });
        await Deno.writeTextFile(
          `${dir}/50-insecure.conf`,
          `[[registry]]\nlocation = "${tlsReg.host}"\ninsecure = true\n`,
        );
        if (mode === "rootless") {
          await new Deno.Command("chown", { args: ["-R", TEST_USER, `${h8.userHome}/.config`] }).output();
        }
        const env = { CONTAINERS_REGISTRIES_CONF: conf };
        const r = await h8.pod(["pull", "-q", dest], { env });
        assert.equal(r.code, 0, r.stderr);
        // a later drop-in (60 after 50) takes the entry back
        await Deno.writeTextFile(`${dir}/60-secure.conf`, `[[registry]]\nlocation = "${tlsReg.host}"\n`);
        await Deno.chmod(`${dir}/60-secure.conf`, 0o644);
        const h9 = await home();
        failsOnCertificate(
          await h9.pod(["pull", "-q", dest], { env, userHome: h8.userHome }),
          "60-secure.conf",
        );
      });
      await t.step("podman's certs.d directory is read without --cert-dir", async () => {
        const h4 = await home();
        let dir: string;
        if (mode === "rootless") {
          dir = `${(h4 as { userHome: string }).userHome}/.config/containers/certs.d/${tlsReg.host}`;
        } else {
          dir = `/etc/containers/certs.d/${tlsReg.host}`;
          etcDir = dir;
        }
        await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
        await Deno.copyFile(`${certs}/ca.crt`, `${dir}/ca.crt`);
        if (mode === "rootless") {
          await new Deno.Command("chown", {
            args: ["-R", TEST_USER, `${(h4 as { userHome: string }).userHome}/.config`],
          }).output();
        }
        const r = await h4.pod(["pull", "-q", dest]);
        assert.equal(r.code, 0, r.stderr);
      });
      await t.step("a registry that requires a client certificate: --cert-dir presents it", async () => {
        const mtls = await startRegistry({
          logLevel: "error",
          tls: {
            certPath: `${certs}/server.pem`,
            keyPath: `${certs}/server.key`,
            ca: await Deno.readTextFile(`${certs}/ca.crt`),
            clientCa: `${certs}/ca.crt`,
          },
        });
        regs.push(mtls);
        const to = `${mtls.host}/mtls/busybox:1`;
        const denied = await h.pod(["push", "-q", "--cert-dir", `${certs}/ca-only`, img.ref, to]);
        assert.equal(denied.code, 125, denied.stderr);
        assert.ok(isOneLineError(denied.stderr), denied.stderr);
        const ok = await h.pod(["push", "-q", "--cert-dir", `${certs}/with-client`, img.ref, to]);
        assert.equal(ok.code, 0, ok.stderr);
        const h5 = await home();
        const pulled = await h5.pod([
          "pull",
          "-q",
          "--tls-verify=false",
          "--cert-dir",
          `${certs}/with-client`,
          to,
        ]);
        assert.equal(pulled.code, 0, pulled.stderr);
      });
    } finally {
      for (const h of homes) await h.cleanup();
      for (const r of regs) await r.stop();
      if (etcDir) await Deno.remove(etcDir, { recursive: true }).catch(() => {});
      await Deno.remove(certs, { recursive: true });
    }
  };
}

if (haveOpenssl) await testRootAndRootless("registry TLS: --tls-verify=false, --cert-dir, certs.d", tlsSuite);
else {
  Deno.test({ name: "registry TLS (openssl missing)", ignore: true, fn() {} });
}
