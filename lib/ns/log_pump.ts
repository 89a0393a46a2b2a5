/**
 * A foreground container's output, passed through to pod's own stdout/stderr and written to the container's
 * log in the k8s-file format the detached supervisor writes (`<time> stdout|stderr F|P <text>`, one line per
 * output line, `P` for a piece without its newline yet), so `pod logs` shows foreground runs too.
 * @module
 */

const enc = new TextEncoder();

/** `2026-01-02T03:04:05.678000000+00:00`: the supervisor's timestamps, at millisecond precision. */
function timestamp(): string {
  return new Date().toISOString().replace(/Z$/, "000000+00:00");
}

/** k8s-file lines for one chunk of a stream. */
export function logLines(stream: "stdout" | "stderr", chunk: string, time = timestamp()): string {
  let out = "";
  let start = 0;
  for (let nl = chunk.indexOf("\n"); nl >= 0; nl = chunk.indexOf("\n", start)) {
    out += `${time} ${stream} F ${chunk.slice(start, nl)}\n`;
    start = nl + 1;
  }
  if (start < chunk.length) out += `${time} ${stream} P ${chunk.slice(start)}\n`;
  return out;
}

function writeAll(f: { writeSync(b: Uint8Array): number }, b: Uint8Array): void {
  for (let off = 0; off < b.length;) off += f.writeSync(b.subarray(off));
}

/**
 * Copies the child's stdout and stderr to this process's and appends them to the log at `logPath`. Resolves
 * when both reach EOF, or `settleMs` after `exited` resolves (a process the container left behind may
 * hold the pipes open).
 */
export async function pumpOutput(
  child: { stdout: ReadableStream<Uint8Array>; stderr: ReadableStream<Uint8Array> },
  logPath: string,
  exited: Promise<unknown>,
  settleMs = 100,
  maxSize?: number,
): Promise<void> {
  let log = await Deno.open(logPath, { append: true, create: true, mode: 0o600 });
  let size = maxSize ? log.statSync().size : 0;
  const append = (bytes: Uint8Array) => {
    if (maxSize && size > 0 && size + bytes.length > maxSize) {
      // --log-opt max-size: rotated to <log>.1 (the older one dropped), as the detached supervisor does
      log.close();
      Deno.renameSync(logPath, `${logPath}.1`);
      log = Deno.openSync(logPath, { append: true, create: true, mode: 0o600 });
      size = 0;
    }
    writeAll(log, bytes);
    size += bytes.length;
  };
  const pump = async (stream: "stdout" | "stderr", from: ReadableStream<Uint8Array>) => {
    const to = stream === "stdout" ? Deno.stdout : Deno.stderr;
    const dec = new TextDecoder();
    const reader = from.getReader();
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    exited.then(() => {
      if (stop) return; // already at EOF
      timer = setTimeout(() => {
        stop = true;
        reader.cancel().catch(() => {});
      }, settleMs);
    });
    try {
      while (!stop) {
        const r = await reader.read();
        if (r.done) break;
        try {
          writeAll(to, r.value);
        } catch { /* pod's own output closed: the log still gets it */ }
        append(enc.encode(logLines(stream, dec.decode(r.value, { stream: true }))));
      }
    } catch {
      /* cancelled */
    } finally {
      clearTimeout(timer);
      stop = true;
    }
  };
  try {
    await Promise.all([pump("stdout", child.stdout), pump("stderr", child.stderr)]);
  } finally {
    log.close();
  }
}
