/**
 * Stage 1's side of the exec fifo (`<stateDir>/exec.fifo`): stage 2 writes `pid <host pid>\n`, with a
 * deferred process `prepared\n` (answered through the process fifo), then nothing (its fd is close-on-exec:
 * EOF = the command runs) or `<code> <message>\n` on failure. Stage 1 writes `abort\n` into it when the
 * container ended before that.
 * @module
 */

/**
 * Reads the exec fifo: resolves to the init pid and the stage 2 failure, if any. A `prepared` line after the
 * pid (deferred process) is answered by `onPrepared` before reading on; when that fails, stage 2's own
 * failure (read to EOF) is still the one reported, else `onPrepared`'s error is thrown. `keep` holds stage 1's own write end
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
  let failed: { error: unknown } | undefined;
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
        try {
          await onPrepared!();
        } catch (e) {
          // stage 1 failed (e.g. the network gate) and told stage 2 to give up; stage 2 may have failed on its
          // own meanwhile, building the root (its error is then why the netns was gone): read on to EOF
          failed = { error: e };
        }
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
  const error = m ? { code: Number(m[1]), message: m[2] } : undefined;
  if (failed) {
    // stage 2's own failure is the cause; its answer to stage 1's `abort` is not
    if (error && !STAGE1_GAVE_UP.test(error.message)) return { pid, error };
    throw failed.error;
  }
  return { pid, error };
}

/** stage2.ts's messages when stage 1 gave up (`abort` instead of the process or of `go`). */
const STAGE1_GAVE_UP = /^stage 1 gave up before /;

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
