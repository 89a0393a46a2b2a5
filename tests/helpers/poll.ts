/**
 * Waiting on a container's state from a test: {@link until} polls a condition, {@link inspectFormat} reads one
 * `pod inspect --format` value.
 * @module
 */

import assert from "node:assert/strict";
import type { TempPodHome } from "./pod.ts";

/**
 * Polls `fn` until it returns true; throws `timed out waiting for: <what>` after `ms` (60 s by default: a busy
 * CI machine), looking every `step` ms.
 *
 * @example
 * ```ts ignore
 * await until("c1 exited", async () => (await inspectFormat(h, "c1", "{{.State.Status}}")) === "exited");
 * ```
 */
export async function until(
  what: string,
  fn: () => Promise<boolean>,
  ms = 60_000,
  step = 200,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, step));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

/** `pod inspect --format FORMAT NAME`'s output, trimmed; the command must succeed. */
export async function inspectFormat(h: TempPodHome, name: string, format: string): Promise<string> {
  const r = await h.pod(["inspect", "--format", format, name]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}
