/**
 * Where `save`, `export` and `volume export` write an archive: a file (written beside it and renamed into place
 * once complete) or stdout, stopping quietly when stdout's reader goes away.
 * @module
 */

import { outBytes, stdoutClosed } from "./output.ts";

/** Writes an archive's chunks to stdout (stopping quietly when its reader goes away). */
export async function chunksToStdout(chunks: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const c of chunks) {
    outBytes(c);
    if (stdoutClosed()) break;
  }
}

/**
 * Writes a tar stream whose producer reports its end separately (`done` rejects when tar failed) to `output`,
 * or to stdout without one. A failed producer fails the stream before its end, so no half archive is renamed
 * into place.
 */
export async function writeTarStream(
  output: string | undefined,
  x: { chunks: AsyncIterable<Uint8Array>; done: Promise<unknown> },
): Promise<void> {
  const chunks = (async function* () {
    yield* x.chunks;
    await x.done;
  })();
  if (output) {
    const { writeFileFromChunks } = await import("../image/save.ts");
    await writeFileFromChunks(output, chunks);
  } else await chunksToStdout(chunks);
}
