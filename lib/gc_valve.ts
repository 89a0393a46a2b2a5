/**
 * Keeps peak memory flat while streaming through APIs that allocate a fresh buffer for every chunk (V8 only
 * collects such external memory after ~64 MB of it piled up): a collection every 8 MB of data instead. Each
 * forced major collection costs ~10 ms, so the hot paths avoid the garbage instead: downloads read into a
 * reused buffer (BYOB, `lib/registry/http.ts`) and the unpacker drives zlib synchronously into a reused
 * buffer (`lib/unpack/compress.ts`); only the unpacker's node-stream fallback still uses this valve.
 * @module
 */

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type GcFn = (opts?: { type?: "minor" | "major" }) => void;

let gcFn: GcFn | null | undefined;

function getGc(): GcFn | null {
  if (gcFn !== undefined) return gcFn;
  try {
    setFlagsFromString("--expose-gc");
    const fn = runInNewContext("gc") as unknown;
    gcFn = typeof fn === "function" ? fn as GcFn : null;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/** Bytes of streamed data between two collections. */
export const GC_INTERVAL = 8 * 1024 * 1024;

/** Bytes streamed in this process since the last collection (shared: concurrent streams add up). */
let since = 0;

/**
 * Counts streamed bytes and collects garbage every {@link GC_INTERVAL} bytes streamed by the whole process
 * (several concurrent layer downloads of a few MB each still trigger it). A no-op when unavailable.
 */
export class GarbageValve {
  /** Records `n` more bytes streamed. */
  add(n: number): void {
    since += n;
    if (since < GC_INTERVAL) return;
    since = 0;
    getGc()?.({ type: "major" });
  }
}
