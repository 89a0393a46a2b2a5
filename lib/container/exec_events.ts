/**
 * The `exec` and `exec_died` lines of the event log, for the spawning ways of `pod exec` (container/exec.ts
 * and exec_fast.ts's fallback; the handoff has the compiled helper write the same lines).
 * @module
 */

import { appendEventLines, eventLine } from "../store/events.ts";

/** What an exec event names: the container's id, image, name and labels. */
export interface ExecEventSubject {
  /** The container's full id. */
  id: string;
  /** Its image as the events name it (the reference, else the name). */
  image: string;
  /** Its name. */
  name: string;
  /** Its labels (the events' `Attributes`). */
  labels?: Record<string, string>;
}

/**
 * Appends the `exec` (at `started`, an RFC3339Nano time) and, with `code`, `exec_died` (now) lines of the
 * event log in one write, through lib/store/events.ts (it rotates a full log and honours
 * `--events-backend none`).
 */
export function appendExecEvents(root: string, c: ExecEventSubject, started: string, code?: number): void {
  const subject = {
    ID: c.id,
    Image: c.image,
    Name: c.name,
    Type: "container" as const,
    Attributes: c.labels,
  };
  let text = eventLine({ ...subject, Status: "exec", Time: started });
  if (code !== undefined) text += eventLine({ ...subject, Status: "exec_died", ContainerExitCode: code });
  appendEventLines(root, text);
}
