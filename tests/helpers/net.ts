/**
 * What the network tests share: why networking cannot run in a mode here (a visible skip reason), a free
 * loopback port, GETs that wait for a container's server, and a busybox httpd command line.
 * Traffic from these helpers goes only to the URLs the tests pass (127.0.0.1 and the tests' containers).
 * @module
 */
import assert from "node:assert/strict";
import type { Mode } from "./modes.ts";
import type { TempPodHome } from "./pod.ts";

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The tools of rootful (and rootless bridge) networking. */
const NETAVARK_TOOLS = ["/usr/lib/podman/netavark", "/usr/lib/podman/aardvark-dns", "/usr/sbin/iptables"];

/** The first of `tools` that is missing, as a skip reason. */
function missingTool(tools: string[]): string | undefined {
  for (const tool of tools) {
    try {
      Deno.statSync(tool);
    } catch {
      return `${tool} is not installed`;
    }
  }
  return undefined;
}

/** Why slirp4netns cannot open /dev/net/tun for a non-root user, or undefined. */
export function tunProblem(): string | undefined {
  try {
    const m = (Deno.statSync("/dev/net/tun").mode ?? 0) & 0o777;
    if ((m & 0o006) !== 0o006) {
      return `/dev/net/tun is mode 0${m.toString(8)} (scripts/setup-test-host.sh makes it 0666)`;
    }
  } catch {
    return "/dev/net/tun is missing";
  }
  return undefined;
}

/**
 * Why this mode's networking cannot run here, or undefined: root needs netavark, aardvark-dns and iptables;
 * rootless needs slirp4netns and an openable /dev/net/tun, plus the netavark tools with `bridge` (rootless bridge
 * networks run netavark inside the rootless network namespace).
 */
export function networkSkipReason(mode: Mode, opts: { bridge?: boolean } = {}): string | undefined {
  if (mode === "root") return missingTool(NETAVARK_TOOLS);
  return tunProblem() ?? missingTool(["/usr/bin/slirp4netns", ...(opts.bridge ? NETAVARK_TOOLS : [])]);
}

/** A free TCP port on 127.0.0.1 (the kernel's pick). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** GET `url`; the body, or undefined when nothing answers within `tries` × 100 ms. */
export async function tryFetch(url: string, tries = 100): Promise<string | undefined> {
  for (let i = 0; i < tries; i++) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return await r.text();
    } catch {
      await sleep(100);
    }
  }
  return undefined;
}

/** GET `url` until it answers (a container's server starts a moment after it), up to `tries` × 100 ms; throws. */
export async function fetchText(url: string, tries = 100): Promise<string> {
  const body = await tryFetch(url, tries);
  if (body === undefined) throw new Error(`${url}: nothing answered`);
  return body;
}

/** A busybox httpd on port 80 serving `hello-<hostname>` (the container's short id unless named). */
export const HTTPD = "mkdir -p /www && echo hello-$HOSTNAME > /www/index.html && exec httpd -f -p 80 -h /www";

/** `pod ARGS` in `h`, which must succeed; its stdout. */
export async function ok(h: TempPodHome, args: string[]): Promise<string> {
  const r = await h.pod(args);
  assert.equal(r.code, 0, `pod ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
