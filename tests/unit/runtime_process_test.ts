import assert from "node:assert/strict";
import {
  buildEnv,
  expandEnvArg,
  mergeCommand,
  parseEntrypoint,
  parseEnvFileText,
  parseLabels,
  splitUserSpec,
} from "../../lib/container/process_options.ts";

const image = { Entrypoint: ["/bin/echo", "entry"], Cmd: ["from-cmd"] };

Deno.test("ENTRYPOINT + CMD from the image", () => {
  assert.deepEqual(mergeCommand(image, undefined, []).args, ["/bin/echo", "entry", "from-cmd"]);
});

Deno.test("args replace CMD, keep ENTRYPOINT", () => {
  assert.deepEqual(mergeCommand(image, undefined, ["x", "y"]).args, ["/bin/echo", "entry", "x", "y"]);
});

Deno.test("--entrypoint replaces ENTRYPOINT and drops the image CMD", () => {
  assert.deepEqual(mergeCommand(image, "/bin/sh", []).args, ["/bin/sh"]);
  assert.deepEqual(mergeCommand(image, "/bin/sh", ["-c", "true"]).args, ["/bin/sh", "-c", "true"]);
  assert.deepEqual(mergeCommand(image, '["/bin/sh","-c"]', ["id"]).args, ["/bin/sh", "-c", "id"]);
});

Deno.test('--entrypoint "" clears it', () => {
  assert.deepEqual(mergeCommand(image, "", ["ls"]).args, ["ls"]);
  assert.throws(() => mergeCommand(image, "", []), /no command or entrypoint/);
  assert.deepEqual(parseEntrypoint("a b"), ["a b"]);
});

Deno.test("no command anywhere is an error", () => {
  assert.throws(() => mergeCommand({}, undefined, []), /no command or entrypoint provided/);
});

Deno.test("-e forms", () => {
  const host = { HOME: "/root", FOO_A: "1", FOO_B: "2" };
  assert.deepEqual(expandEnvArg("A=b=c", host), ["A=b=c"]);
  assert.deepEqual(expandEnvArg("HOME", host), ["HOME=/root"]);
  assert.deepEqual(expandEnvArg("UNSET", host), []);
  assert.deepEqual(expandEnvArg("FOO_*", host), ["FOO_A=1", "FOO_B=2"]);
  assert.deepEqual(expandEnvArg("EMPTY=", host), ["EMPTY="]);
  assert.throws(() => expandEnvArg("=x", host), /invalid environment variable/);
});

Deno.test("--env-file text", () => {
  const text = "# comment\n\nA=1\n  B=two words\nHOME\nMISSING\r\nC=\n";
  assert.deepEqual(parseEnvFileText(text, { HOME: "/h" }), ["A=1", "B=two words", "HOME=/h", "C="]);
});

Deno.test("environment order and precedence", () => {
  const env = buildEnv({
    imageEnv: ["PATH=/custom", "FOO=image", "KEEP=1"],
    envFile: ["FOO=file", "BAR=file"],
    env: ["BAR=flag"],
    hostname: "abc",
    terminal: true,
  });
  assert.deepEqual(env, [
    "PATH=/custom",
    "FOO=file",
    "KEEP=1",
    "container=podman",
    "TERM=xterm",
    "BAR=flag",
    "HOSTNAME=abc",
  ]);
  const plain = buildEnv({ imageEnv: null, envFile: [], env: [], hostname: "h", terminal: false });
  assert.ok(plain[0].startsWith("PATH=/usr/local/sbin"));
  assert.ok(!plain.some((e) => e.startsWith("TERM=")));
});

Deno.test("-u split and labels", () => {
  assert.deepEqual(splitUserSpec("1000:wheel"), { user: "1000", group: "wheel" });
  assert.deepEqual(splitUserSpec("nobody"), { user: "nobody" });
  assert.deepEqual(parseLabels(["a=1", "b", "c=x=y"]), { a: "1", b: "", c: "x=y" });
});
