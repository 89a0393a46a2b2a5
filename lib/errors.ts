/**
 * Error types that carry podman's exit codes and a stable machine-readable code.
 *
 * Every failure pod reports to a user is a {@link PodError}: the CLI prints `Error: <message>` on stderr
 * (and the {@link PodError.hint} on the next line when there is one) and exits with its
 * {@link PodError.exitCode}. Library callers branch on {@link PodError.code}, which does not change
 * between releases. Anything else that escapes is a bug, reported the same way with exit code 125 (and a
 * stack trace only when `POD_DEBUG` is set).
 *
 * @example Branching on the code
 * ```ts
 * import { PodError } from "./errors.ts";
 *
 * const err = new PodError("no such container web", { code: "NOT_FOUND" });
 * if (err instanceof PodError && err.code === "NOT_FOUND") console.log(err.exitCode); // 125
 * ```
 * @module
 */

/** Exit codes shared with podman. */
export const ExitCode = {
  /** pod's own error (bad flag, missing image, registry failure…). */
  Error: 125,
  /** The container command exists but cannot be invoked. */
  CannotInvoke: 126,
  /** The container command was not found. */
  NotFound: 127,
} as const;

/**
 * Stable kinds of failure:
 * - `USAGE` bad command-line input or options;
 * - `NOT_FOUND` a named image, container, volume… does not exist;
 * - `EXISTS` a name is already taken;
 * - `IN_USE` the object is used by something else (an image by a container, a running container);
 * - `STATE` the object is in the wrong state for the operation (not running, already paused…);
 * - `REGISTRY` the registry refused or failed (auth, HTTP errors, bad responses);
 * - `DIGEST_MISMATCH` content did not match its digest;
 * - `CONTAINMENT` an archive, layer or path tried to leave its root;
 * - `SYSCALL` a system call failed;
 * - `MISSING_TOOL` a host program pod drives is not installed;
 * - `CANNOT_INVOKE` / `COMMAND_NOT_FOUND` the container's command (126 / 127);
 * - `CANCELLED` an `AbortSignal` ended the work;
 * - `INTERNAL` anything else.
 */
export type ErrorCode =
  | "USAGE"
  | "NOT_FOUND"
  | "EXISTS"
  | "IN_USE"
  | "STATE"
  | "REGISTRY"
  | "DIGEST_MISMATCH"
  | "CONTAINMENT"
  | "SYSCALL"
  | "MISSING_TOOL"
  | "CANNOT_INVOKE"
  | "COMMAND_NOT_FOUND"
  | "CANCELLED"
  | "INTERNAL";

/** Options of a {@link PodError} beyond its message. */
export interface PodErrorOptions extends ErrorOptions {
  /** The stable kind of failure (default: from the exit code, else `INTERNAL`). */
  code?: ErrorCode;
  /** What the user can do about it; the CLI prints it on a line of its own. */
  hint?: string;
  /** Exit code (default 125, or 126/127 for `CANNOT_INVOKE`/`COMMAND_NOT_FOUND`). */
  exitCode?: number;
}

function defaultCode(exitCode: number): ErrorCode {
  if (exitCode === ExitCode.CannotInvoke) return "CANNOT_INVOKE";
  if (exitCode === ExitCode.NotFound) return "COMMAND_NOT_FOUND";
  return "INTERNAL";
}

/**
 * A failure with a one-line message meant for the user, the exit code to leave with, a stable `code`
 * and an optional `hint`.
 *
 * @example
 * ```ts
 * import { PodError } from "./errors.ts";
 *
 * const a = new PodError("image not known", { code: "NOT_FOUND" }); // exit code 125
 * const b = new PodError("exec: no such file", 127);                // code COMMAND_NOT_FOUND
 * console.log(a.code, b.code, b.exitCode);
 * ```
 */
export class PodError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;
  /** Stable kind of failure. */
  readonly code: ErrorCode;
  /** What the user can do about it, if anything useful can be said. */
  readonly hint?: string;
  /** A failure with `message`; the exit code (default 125) or the options (code, hint, exit code, cause). */
  constructor(
    message: string,
    exitCodeOrOptions: number | PodErrorOptions = ExitCode.Error,
    options?: ErrorOptions,
  ) {
    const o: PodErrorOptions = typeof exitCodeOrOptions === "number"
      ? { ...options, exitCode: exitCodeOrOptions }
      : exitCodeOrOptions;
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = "PodError";
    this.exitCode = o.exitCode ??
      (o.code === "CANNOT_INVOKE"
        ? ExitCode.CannotInvoke
        : o.code === "COMMAND_NOT_FOUND"
        ? ExitCode.NotFound
        : 125);
    this.code = o.code ?? defaultCode(this.exitCode);
    if (o.hint) this.hint = o.hint;
  }
}

/** Bad command-line input or options: unknown flag, missing argument, malformed value (`USAGE`). */
export class UsageError extends PodError {
  constructor(message: string, hint?: string) {
    super(message, { code: "USAGE", hint });
    this.name = "UsageError";
  }
}

/** A named object (image, container, volume) that does not exist (`NOT_FOUND`). */
export class NotFoundError extends PodError {
  constructor(message: string) {
    super(message, { code: "NOT_FOUND" });
    this.name = "NotFoundError";
  }
}

/** Returns a one-line description of any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.split("\n")[0] || err.name;
  return String(err).split("\n")[0];
}
