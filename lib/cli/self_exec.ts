/**
 * Running pod's own CLI again, e.g. inside the rootless user's namespace (`volume import` there sets file
 * owners to the container's ids): the same form pod runs in — a checkout's `cli.ts` or a bundle's `pod.js` under
 * deno, or a `deno compile` binary.
 * @module
 */

/** The argv that runs this pod's CLI with `args`. */
export function selfCommand(args: string[]): string[] {
  const exe = Deno.execPath();
  if (!/\/deno$/.test(exe)) return [exe, ...args];
  return [exe, "run", "-A", "-q", "--unstable-lazy-dynamic-imports", Deno.mainModule, ...args];
}
