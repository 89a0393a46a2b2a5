/**
 * The command line that runs stage 2 (`lib/stage2.ts`), whatever form pod runs in.
 * @module
 */

/** `deno` flags of stage 2: its dynamic imports (e.g. lib/unpack) load only when they run, as in deno.json. */
const STAGE2_RUN = ["run", "-A", "-q", "--no-config", "--unstable-lazy-dynamic-imports"];

/**
 * The command that runs stage 2 with the spec at `specPath` (`-`: from its stdin, an early start): from a
 * source checkout, `stage2.ts` itself (it imports only what it needs); from a bundle or a `jsr:` URL, the
 * main module's hidden `__stage2` entry; from a `deno compile` binary, the binary's.
 */
export function stage2Command(specPath: string): string[] {
  const exe = Deno.execPath();
  if (!/\/deno$/.test(exe)) return [exe, "__stage2", specPath];
  const url = new URL("../stage2.ts", import.meta.url);
  if (url.protocol === "file:") {
    const path = decodeURIComponent(url.pathname);
    try {
      Deno.statSync(path);
      return [exe, ...STAGE2_RUN, path, specPath];
    } catch { /* bundled: no stage2.ts beside this code */ }
  }
  return [exe, ...STAGE2_RUN, Deno.mainModule, "__stage2", specPath];
}
