/**
 * Registry faults end to end: `pod pull` (the CLI process) against Debian's docker-registry through the
 * fault-injecting proxy (`tests/helpers/fault_proxy.ts`). Complements `tests/unit/registry_faults_test.ts` (the
 * client against a fake registry): here the real CLI, the real registry and the real store are involved.
 *
 * Every failing case: one `Error: …` line naming the image and the cause, exit 125, the store unchanged.
 * Every recoverable case: exit 0 and a store that `pod system check` accepts.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import {
  busybox,
  customImage,
  multiPlatform,
  noise,
  type PushedImage,
  tarTree,
} from "../helpers/fixtures.ts";
import { type FaultProxy, startFaultProxy } from "../helpers/fault_proxy.ts";
import {
  errorLine,
  isOneLineError,
  type PodResult,
  REGISTRY_TEST_ENV,
  type TempPodHome,
  tempPodHome,
} from "../helpers/pod.ts";
import { listStore } from "../helpers/store_listing.ts";

const available = await registryAvailable();

/** Runs pod on `h` with a hard bound: a hang fails the test instead of hanging it. */
async function podBounded(
  h: TempPodHome,
  args: string[],
  env: Record<string, string> = {},
  boundMs = 90_000,
): Promise<PodResult> {
  const r = await h.pod(args, { env, timeoutMs: boundMs });
  if (r.timedOut) throw new Error(`pod ${args.join(" ")} did not finish within ${boundMs} ms (hang)`);
  return r;
}

function assertFailed(r: PodResult, image: string, cause: RegExp): void {
  assert.equal(r.code, 125, `exit code; stderr:\n${r.stderr}`);
  assert.ok(isOneLineError(r.stderr), `one-line error expected, got:\n${r.stderr}`);
  const line = errorLine(r.stderr);
  assert.ok(line.includes(image), `error should name ${image}: ${line}`);
  assert.match(line, cause);
  assert.ok(line.length < 1000, `error line too long (${line.length})`);
  assert.equal(r.stdout, "", "no image ID printed");
}

Deno.test({
  name: "registry faults through a proxy: failures leave the store unchanged, transient faults recover",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const reg = await startRegistry();
    const proxy = await startFaultProxy(reg.url);
    const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
    try {
      const base = await busybox(reg);
      const data = await customImage(reg, {
        repo: "test/data",
        layers: [{ tar: await tarTree({ "data.bin": noise(1_500_000, 7) }), compression: "none" }],
      });
      const multi = await multiPlatform(reg);
      const layer = data.layers[0];
      const P = proxy.host;
      const dataRef = `${P}/test/data:latest`;
      const dataName = `${P}/test/data`;

      // a store with one image in it, so "unchanged" means something
      const first = await h.pod(["pull", "-q", `${P}/test/busybox:latest`]);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout.trim(), base.configDigest.slice(7));
      const before = await listStore(h.home, { ignoreLock: false });
      assert.ok(before.some((e) => e.path === `blobs/sha256/${base.layers[0].digest.slice(7)}`));

      const failCase = async (
        name: string,
        setup: (p: FaultProxy) => void,
        cause: RegExp,
        opts: { ref?: string; args?: string[]; env?: Record<string, string>; image?: string } = {},
      ) => {
        await t.step(name, async () => {
          proxy.reset();
          setup(proxy);
          const r = await podBounded(h, ["pull", ...(opts.args ?? []), opts.ref ?? dataRef], opts.env);
          assertFailed(r, opts.image ?? dataName, cause);
          if (opts.ref !== `${P}/test/multi:latest`) {
            assert.ok(proxy.seen.some((s) => s.fault), "the fault was applied");
          }
          assert.deepEqual(await listStore(h.home, { ignoreLock: false }), before, "store changed");
        });
      };

      await failCase(
        "HTTP 500 on every manifest request: bounded retries, then an error",
        (p) => p.add({ when: "manifest", fault: { status: 500 } }),
        /HTTP 500|500/,
      );
      await failCase(
        "HTTP 502 with an HTML page on the blob",
        (p) =>
          p.add({
            when: "blob",
            fault: {
              status: 502,
              headers: { "content-type": "text/html" },
              body: "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            },
          }),
        /502|Bad Gateway/,
      );
      await failCase(
        "429 with Retry-After on every request",
        (p) => p.add({ when: "manifest", fault: { status: 429, headers: { "retry-after": "1" } } }),
        /429|too many/i,
      );
      await failCase(
        "blob body cut after 100 kB on every attempt",
        (p) => p.add({ when: "blob", fault: { cutAfter: 100_000 } }),
        /gave up|connection|closed|reset/i,
      );
      await failCase(
        "blob bytes that do not match the digest",
        (p) => p.add({ when: (_r, u) => u.pathname.endsWith(layer.digest), fault: { corrupt: true } }),
        /digest/i,
      );
      await failCase(
        "manifest that does not match the digest pulled by",
        (p) =>
          p.add({
            when: "manifest",
            fault: { transform: (b) => new Uint8Array([...b, 0x0a]) },
          }),
        /digest/i,
        { ref: `${P}/test/data@${data.manifestDigest}` },
      );
      await failCase(
        "stalled manifest answer beyond POD_REGISTRY_TIMEOUT_MS: a timeout error, not a hang",
        (p) => p.add({ when: "manifest", fault: { stallMs: 60_000 } }),
        /timed out/i,
        { env: { POD_REGISTRY_TIMEOUT_MS: "700" } },
      );
      await failCase(
        "blob that stalls mid-body on every attempt",
        (p) => p.add({ when: "blob", fault: { stallMs: 60_000, afterBytes: 50_000 } }),
        /timed out|gave up/i,
        { env: { POD_REGISTRY_TIMEOUT_MS: "700" } },
      );
      await failCase(
        "oversized manifest (5 MiB) is refused",
        (p) =>
          p.add({
            when: "manifest",
            fault: { replaceBody: '{"schemaVersion":2,"x":"' + "a".repeat(5 << 20) + '"}' },
          }),
        /too large/i,
      );
      await failCase(
        "oversized error body (8 MiB) is capped to a one-line message",
        (p) =>
          p.add({
            when: "manifest",
            fault: {
              status: 404,
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "x".repeat(8 << 20) }] }),
            },
          }),
        /manifest unknown|404/i,
      );
      await failCase(
        "HTML instead of a JSON manifest",
        (p) =>
          p.add({
            when: "manifest",
            fault: {
              replaceBody: "<!doctype html><html><body>login</body></html>",
              contentType: "text/html",
            },
          }),
        /manifest/i,
      );
      await failCase(
        "401 with a malformed WWW-Authenticate header",
        (p) =>
          p.add({
            when: "any",
            fault: {
              status: 401,
              headers: { "www-authenticate": 'Bearer realm="http://127.0.0.1/token' },
            },
          }),
        /WWW-Authenticate|authenticat/i,
        { image: P },
      );
      await failCase(
        "oversized token answer",
        (p) => {
          p.add({
            when: (_r, u) => u.pathname.startsWith("/v2/"),
            fault: {
              status: 401,
              headers: { "www-authenticate": `Bearer realm="http://${P}/token",service="fault"` },
            },
          });
          p.add({ when: "token", fault: { status: 200, body: '{"token":"' + "t".repeat(3 << 20) + '"}' } });
        },
        /too large|token/i,
      );
      await failCase(
        "an index that lists no matching platform",
        () => {}, // no fault: the real index has no linux/riscv64 entry
        /no image for linux\/riscv64/,
        { ref: `${P}/test/multi:latest`, args: ["--platform", "linux/riscv64"], image: `${P}/test/multi` },
      );
      assert.ok(multi.platforms?.["linux/arm64"]);

      const okCase = async (
        name: string,
        setup: (p: FaultProxy) => void,
        check?: (p: FaultProxy) => void,
        extraEnv: Record<string, string> = {},
      ) => {
        await t.step(name, async () => {
          proxy.reset();
          setup(proxy);
          const fresh = await tempPodHome({ env: REGISTRY_TEST_ENV });
          try {
            const r = await podBounded(fresh, ["pull", "-q", dataRef], extraEnv);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(r.stdout.trim(), data.configDigest.slice(7));
            const c = await fresh.pod(["system", "check"]);
            assert.equal(c.code, 0, c.stdout + c.stderr);
            const blob = await Deno.readFile(`${fresh.home}/blobs/sha256/${layer.digest.slice(7)}`);
            assert.equal(blob.length, layer.size);
            assert.deepEqual(await listStore(`${fresh.home}/tmp`), [], "tmp/ is empty");
            check?.(proxy);
          } finally {
            await fresh.cleanup();
          }
        });
      };

      const blobGets = (p: FaultProxy) =>
        p.seen.filter((s) => s.method === "GET" && s.path.endsWith(layer.digest)).length;
      await okCase(
        "503 twice on the layer, then OK",
        (p) =>
          p.add({ when: (_r, u) => u.pathname.endsWith(layer.digest), times: 2, fault: { status: 503 } }),
        (p) => assert.ok(blobGets(p) >= 3, `${blobGets(p)} layer GETs`),
      );
      await okCase(
        "429 with Retry-After once on the manifest, then OK",
        (p) => p.add({ when: "manifest", times: 1, fault: { status: 429, headers: { "retry-after": "1" } } }),
        (p) => assert.ok(p.seen.filter((s) => s.path.includes("/manifests/")).length >= 2),
      );
      await okCase(
        "layer cut after 300 kB twice: resumed with Range",
        (p) =>
          p.add({
            when: (_r, u) => u.pathname.endsWith(layer.digest),
            times: 2,
            fault: { cutAfter: 300_000 },
          }),
        (p) => {
          const ranges = p.seen.filter((s) => s.path.endsWith(layer.digest) && s.headers.range);
          assert.ok(ranges.length >= 1, "a Range request was made");
          assert.match(ranges[0].headers.range, /^bytes=\d+-$/);
        },
      );
      await okCase(
        "layer stalls once beyond the timeout, then the retry completes",
        (p) =>
          p.add({
            when: (_r, u) => u.pathname.endsWith(layer.digest),
            times: 1,
            fault: { stallMs: 60_000, afterBytes: 200_000 },
          }),
        (p) => assert.ok(p.seen.filter((s) => s.path.endsWith(layer.digest)).length >= 2),
        { POD_REGISTRY_TIMEOUT_MS: "1000" },
      );

      await t.step("redirected blob GETs never carry Authorization (basic auth registry)", async () => {
        const areg = await startRegistry({ auth: "basic" });
        const auth = "Basic " + btoa(`${areg.user}:${areg.password}`);
        const aproxy = await startFaultProxy(areg.url, { upstreamAuth: auth });
        const fresh = await tempPodHome({ env: REGISTRY_TEST_ENV });
        try {
          const img: PushedImage = await busybox(areg);
          aproxy.add({ when: "blob", method: "GET", fault: { redirect: true } });
          const r = await podBounded(
            fresh,
            ["pull", "-q", "--creds", `${areg.user}:${areg.password}`, `${aproxy.host}/test/busybox:latest`],
          );
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout.trim(), img.configDigest.slice(7));
          assert.ok(aproxy.redirectSeen.length >= 2, "config and layer went through the redirect");
          assert.ok(
            aproxy.seen.some((s) => s.path.includes("/manifests/") && s.headers.authorization === auth),
            "credentials were used on the registry itself",
          );
          for (const s of aproxy.redirectSeen) {
            assert.equal(s.headers.authorization, undefined, `Authorization leaked to ${s.path}`);
          }
        } finally {
          await aproxy.stop();
          await areg.stop();
          await fresh.cleanup();
        }
      });
    } finally {
      await proxy.stop();
      await reg.stop();
      await h.cleanup();
    }
  },
});
