import assert from "node:assert/strict";
import { DetachScanner, parseDetachKeys } from "../../lib/cli/attach_input.ts";
import { PodError } from "../../lib/errors.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("attach: detach keys parse like podman's", () => {
  assert.deepEqual([...parseDetachKeys("ctrl-p,ctrl-q")], [0x10, 0x11]);
  assert.deepEqual([...parseDetachKeys("ctrl-X")], [0x18]);
  assert.deepEqual([...parseDetachKeys("ctrl-@,ctrl-[,ctrl-_")], [0x00, 0x1b, 0x1f]);
  assert.deepEqual([...parseDetachKeys("a,b")], [0x61, 0x62]);
  assert.deepEqual([...parseDetachKeys("")], []);
  for (const bad of ["ctrl-1", "ctrl-", "ab", "ctrl-p,"]) {
    assert.throws(() => parseDetachKeys(bad), PodError, bad);
  }
});

Deno.test("attach: the detach sequence is found across chunks and held back; broken matches pass on", () => {
  const s = new DetachScanner(parseDetachKeys("ctrl-p,ctrl-q"));
  let r = s.feed(bytes("ls\x10"));
  assert.deepEqual([r.forward, r.detach], [bytes("ls"), false]);
  r = s.feed(bytes("x\x10\x10"));
  assert.deepEqual([r.forward, r.detach], [bytes("\x10x\x10"), false]);
  r = s.feed(bytes("\x11after"));
  assert.deepEqual([r.forward, r.detach], [new Uint8Array(0), true]);
  const none = new DetachScanner(new Uint8Array(0));
  assert.deepEqual(none.feed(bytes("\x10\x11")), { forward: bytes("\x10\x11"), detach: false });
});
