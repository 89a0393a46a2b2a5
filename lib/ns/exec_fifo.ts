/**
 * Stage 1's side of the exec fifo (`<stateDir>/exec.fifo`): stage 2 writes `pid <host pid>\n`, with a
 * deferred process `prepared\n` (answered through the process fifo), then nothing (its fd is close-on-exec:
 * EOF = the command runs) or `<code> <message>\n` on failure. Stage 1 writes `abort\n` into it when the
 * container ended before that.
 * @module
 */

/**
 * Reads the exec fifo: resolves to the init pid and the stage 2 failure, if any. A `prepared` line after the
 * pid (deferred process) is answered by `onPrepared` before reading on. `keep` holds stage 1's own write end
 * until the pid arrived, so the reader sees no EOF before stage 2 has opened the fifo (a stage 2 that ends
 * before that is reported through {@link abortExecFifo}).
 */
export async function readExecFifo(
  reader: Deno.FsFile,
  keep: { file?: Deno.FsFile },
  onPid: (pid: number) => void,
  onPrepared?: () => Promise<void>,
): Promise<{ pid?: number; error?: { code: number; message: string } }> {
  const dec = new TextDecoder();
  const buf = new Uint8Array(4096);
  let text = "";
  let pid: number | undefined;
  let prepared = !onPrepared;
  for (;;) {
    const n = await reader.read(buf);
    if (n === null) break;
    text += dec.decode(buf.subarray(0, n));
    let nl: number;
    while ((nl = text.indexOf("\n")) >= 0 && (pid === undefined || !prepared)) {
      const line = text.slice(0, nl);
      if (pid !== undefined) {
        if (line !== "prepared") break; // an error line: read to EOF
        text = text.slice(nl + 1);
        prepared = true;
        await onPrepared!();
        continue;
      }
      text = text.slice(nl + 1);
      if (line === "abort") return {};
      if (line.startsWith("pid ")) {
        pid = Number(line.slice(4));
        keep.file?.close();
        keep.file = undefined;
        onPid(pid);
      }
    }
  }
  reader.close();
  const m = /^(\d+) (.*)/.exec(text.trim());
  return { pid, error: m ? { code: Number(m[1]), message: m[2] } : undefined };
}

/** Writes `abort` to the fifo through `keep`'s write end (once; a no-op after the pid arrived). */
export function abortExecFifo(keep: { file?: Deno.FsFile }): void {
  if (!keep.file) return;
  try {
    keep.file.writeSync(new TextEncoder().encode("abort\n"));
    keep.file.close();
  } catch { /* closed */ }
  keep.file = undefined;
}

/** True while `pid`'s command line is empty: the moment between `execve` closing the fifo and the new argv. */
export function cmdlineEmpty(pid: number): boolean {
  try {
    return Deno.readFileSync(`/proc/${pid}/cmdline`).length === 0;
  } catch {
    return false;
  }
}
