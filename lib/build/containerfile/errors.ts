/** A Containerfile error: one line naming the file and the line. @module */

import { PodError } from "../../errors.ts";

/** A syntax or semantic error at a line of a Containerfile: `Containerfile:3: unknown instruction: FOO`. */
export class ContainerfileError extends PodError {
  /** The file's name as given. */
  readonly file: string;
  /** The 1-based line. */
  readonly line: number;
  /** An error at `line` of `file`. */
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`, { code: "USAGE" });
    this.name = "ContainerfileError";
    this.file = file;
    this.line = line;
  }
}
