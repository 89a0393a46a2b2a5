/**
 * What an image transfer (pull, and what builds on it: create/run pulling a missing image) reports while it
 * runs. The library never prints: callers get these through an `onEvent` callback (the CLI renders them with
 * lib/cli/views/progress.ts).
 * @module
 */

/** What a pull reports while it runs. */
export type PullEvent =
  | { type: "resolving"; ref: string }
  | { type: "signatures" }
  | { type: "blob-start"; kind: "blob" | "config"; digest: string; size: number }
  | { type: "blob-skipped"; kind: "blob" | "config"; digest: string; size: number }
  | { type: "blob-progress"; digest: string; done: number; size: number }
  | { type: "blob-done"; kind: "blob" | "config"; digest: string; size: number }
  | { type: "retry"; what: string; why: string }
  | { type: "writing-manifest" }
  | { type: "done"; id: string };
