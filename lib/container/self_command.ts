/**
 * The command line that runs this pod again on store `root`, for the helpers that outlive it: the supervisor's
 * exit hook (`container cleanup`: restart policies) and health check timer (`healthcheck run`). A checkout's
 * `cli.ts` or a bundle's `pod.js` under deno, or a `deno compile` binary.
 * @module
 */

/** `pod --root <root> <args…>` as an argv. */
export function podCommandLine(root: string, args: string[]): string[] {
  const exe = Deno.execPath();
  const tail = ["--root", root, ...args];
  if (!/\/deno$/.test(exe)) return [exe, ...tail];
  return [exe, "run", "-A", "-q", "--no-config", "--unstable-lazy-dynamic-imports", Deno.mainModule, ...tail];
}
