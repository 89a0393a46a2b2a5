/**
 * Host-side pseudo-terminals for `run -t`/`exec -t`: a pty pair whose slave becomes the container's
 * terminal, the host terminal in raw mode, bytes relayed both ways and window sizes kept in step.
 * @module
 */

import { check, close, libc, O, open, readAsync, SysError, writeAll } from "./libc.ts";

/** Opens a new pty master; returns its fd and the slave's path. */
function openPty(): { master: number; slave: string } {
  const m = check(libc().posix_openpt(O.RDWR | O.NOCTTY | O.CLOEXEC), "posix_openpt");
  check(libc().grantpt(m), "grantpt");
  check(libc().unlockpt(m), "unlockpt");
  const name = new Uint8Array(128);
  const r = libc().ptsname_r(m, name, 128n);
  if (r !== 0) throw new SysError("ptsname", r);
  return { master: m, slave: new TextDecoder().decode(name.subarray(0, name.indexOf(0))) };
}

/** Opens a pty master from a given devpts `ptmx` (e.g. a container's); returns its fd and the pty number. */
function openPtyAt(ptmx: string): { master: number; index: number } {
  const m = open(ptmx, O.RDWR | O.NOCTTY | O.CLOEXEC);
  check(libc().unlockpt(m), "unlockpt", ptmx);
  const n = new Uint32Array(1);
  check(libc().ioctl(m, 0x80045430n, /* TIOCGPTN */ new Uint8Array(n.buffer)), "TIOCGPTN", ptmx);
  return { master: m, index: n[0] };
}

/** Sets a terminal's window size (`TIOCSWINSZ`). */
function setWinsize(fd: number, rows: number, cols: number): void {
  const ws = new Uint16Array([rows, cols, 0, 0]);
  libc().ioctl(fd, 0x5414n, new Uint8Array(ws.buffer));
}

/** A pty pair and its relay to this process's stdio. */
export class PtyRelay {
  /** Host path of the slave (`/dev/pts/N`). */
  readonly slavePath: string;
  readonly #master: number;
  #slaveHold = -1;
  #out: Promise<void> | undefined;
  #raw = false;
  #closed = false;

  /**
   * A pty from the host's devpts, or, with `devpts` (a host path of a container's `/dev/pts`, e.g.
   * `/proc/<pid>/root/dev/pts`), one of the container's, so its name resolves inside the container.
   */
  constructor(devpts?: string) {
    if (devpts) {
      const { master, index } = openPtyAt(`${devpts}/ptmx`);
      this.#master = master;
      this.slavePath = `${devpts}/${index}`;
    } else {
      const { master, slave } = openPty();
      this.#master = master;
      this.slavePath = slave;
    }
    // Held until the container has the slave, so reads of the master don't see EIO too early.
    this.#slaveHold = open(this.slavePath, O.RDWR | O.NOCTTY | O.CLOEXEC);
    this.resize();
  }

  /** Copies the host terminal's size to the pty. */
  resize(): void {
    try {
      const { columns, rows } = Deno.consoleSize();
      setWinsize(this.#master, rows, columns);
    } catch { /* stdout is not a terminal */ }
  }

  /** Starts relaying: host stdin → pty (when `stdin`), pty → host stdout; host terminal raw. */
  start(stdin: boolean): void {
    if (stdin && Deno.stdin.isTerminal()) {
      Deno.stdin.setRaw(true);
      this.#raw = true;
    }
    this.#out = (async () => {
      const buf = new Uint8Array(65536);
      for (;;) {
        const n = await readAsync(this.#master, buf);
        if (n <= 0) break;
        let off = 0;
        while (off < n) off += Deno.stdout.writeSync(buf.subarray(off, n));
      }
    })();
    if (stdin) {
      (async () => {
        const buf = new Uint8Array(65536);
        for (;;) {
          let n: number | null;
          try {
            n = await Deno.stdin.read(buf);
          } catch {
            break;
          }
          if (n === null || this.#closed) break;
          try {
            writeAll(this.#master, buf.subarray(0, n));
          } catch {
            break;
          }
        }
      })();
    }
  }

  /** The container has opened the slave (or failed): stop holding it. */
  released(): void {
    if (this.#slaveHold >= 0) close(this.#slaveHold);
    this.#slaveHold = -1;
  }

  /** Waits (at most `ms`) for the remaining output, then restores the host terminal. */
  async finish(ms = 500): Promise<void> {
    this.released();
    if (this.#out) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.#out, new Promise((r) => timer = setTimeout(r, ms))]);
      clearTimeout(timer);
    }
    this.#closed = true;
    if (this.#raw) {
      try {
        Deno.stdin.setRaw(false);
      } catch { /* gone */ }
    }
  }
}
