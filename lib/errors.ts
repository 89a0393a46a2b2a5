/**
 * Error types that carry podman's exit codes.
 *
 * Every failure pod reports to a user is a {@link PodError}: the CLI prints its message as one line
 * (`Error: …`) on stderr and exits with its code. Anything else that escapes is a bug, reported the same
 * way with code 125 (and a stack trace only when `POD_DEBUG` is set).
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

/** A failure with a one-line message meant for the user and the exit code to leave with. */
export class PodError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;
  constructor(message: string, exitCode: number = ExitCode.Error, options?: ErrorOptions) {
    super(message, options);
    this.name = "PodError";
    this.exitCode = exitCode;
  }
}

/** Bad command-line input: unknown flag, missing argument, malformed value. */
export class UsageError extends PodError {
  constructor(message: string) {
    super(message, ExitCode.Error);
    this.name = "UsageError";
  }
}

/** A named object (image, container, volume) that does not exist. */
export class NotFoundError extends PodError {
  constructor(message: string) {
    super(message, ExitCode.Error);
    this.name = "NotFoundError";
  }
}

/** Returns a one-line description of any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.split("\n")[0] || err.name;
  return String(err).split("\n")[0];
}
