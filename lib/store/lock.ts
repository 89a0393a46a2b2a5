/**
 * An advisory lock on the store (flock on `<root>/lock`), held while index.json or container names change.
 * The kernel drops it when the process dies, so a killed pod never leaves the store locked.
 * @module
 */

/** Runs `fn` holding the exclusive lock file at `path`. */
export async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const f = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  try {
    await f.lock(true);
    return await fn();
  } finally {
    f.close(); // closing releases the flock
  }
}
