/** How the CLI prints an error: `Error: <first line of the message>`, then the hint on a line of its own. */
import assert from "node:assert/strict";
import { errorText } from "../../lib/cli/output.ts";
import { PodError, UsageError } from "../../lib/errors.ts";

Deno.test("output: an error and its hint, as podman prints them", () => {
  assert.equal(
    errorText(new UsageError("unknown flag: --foo", "See 'pod run --help'")),
    "Error: unknown flag: --foo\nSee 'pod run --help'\n",
  );
  assert.equal(
    errorText(new PodError("no such container x", { code: "NOT_FOUND" })),
    "Error: no such container x\n",
  );
  assert.equal(errorText(new PodError("first\nsecond", { hint: "do this" })), "Error: first\ndo this\n");
  assert.equal(errorText(new TypeError("bad")), "Error: bad\n");
  assert.equal(errorText("thrown text"), "Error: thrown text\n");
});
