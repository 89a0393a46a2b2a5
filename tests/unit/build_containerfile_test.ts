import assert from "node:assert/strict";
import { parseContainerfile } from "../../lib/build/containerfile/parser.ts";
import { ContainerfileError } from "../../lib/build/containerfile/errors.ts";
import { IgnoreRules } from "../../lib/build/ignore.ts";
import { applyConfigStep, ConfigError, parseDuration } from "../../lib/build/config_step.ts";
import { expandString, keyValues, processWord, processWords } from "../../lib/build/containerfile/vars.ts";

const env = (o: Record<string, string>) => (n: string) => o[n];

Deno.test("containerfile: stages, flags, exec and shell forms, line numbers", () => {
  const cf = parseContainerfile(
    [
      "ARG BASE=busybox",
      "# a comment",
      "FROM $BASE AS build",
      "RUN echo a \\",
      "  && echo b",
      "",
      "COPY --from=x --chown=1:2 a b /dst/",
      'CMD ["sh", "-c", "echo hi"]',
      "from scratch",
      "copy --from=build /out /",
    ].join("\n"),
  );
  assert.equal(cf.globalArgs.length, 1);
  assert.equal(cf.stages.length, 2);
  const [s0, s1] = cf.stages;
  assert.equal(s0.name, "build");
  assert.equal(s0.base, "$BASE");
  assert.equal(s0.from.line, 3);
  assert.equal(s0.instructions[0].cmd, "RUN");
  assert.equal(s0.instructions[0].line, 4);
  assert.equal(s0.instructions[0].args, "echo a   && echo b");
  assert.deepEqual(s0.instructions[1].flags, { from: ["x"], chown: ["1:2"] });
  assert.equal(s0.instructions[1].args, "a b /dst/");
  assert.equal(s0.instructions[1].line, 7);
  assert.deepEqual(s0.instructions[2].json, ["sh", "-c", "echo hi"]);
  assert.equal(s1.base, "scratch");
  assert.equal(s1.instructions[0].cmd, "COPY");
  assert.equal(s1.instructions[0].line, 10);
});

Deno.test("containerfile: escape directive and backtick continuations", () => {
  const cf = parseContainerfile("# escape=`\nFROM x\nRUN dir c:\\ `\n  && echo ok\n");
  assert.equal(cf.escape, "`");
  assert.equal(cf.stages[0].instructions[0].args, "dir c:\\   && echo ok");
  assert.equal(
    parseContainerfile("# syntax=docker/dockerfile:1\nFROM x\n").directives.syntax,
    "docker/dockerfile:1",
  );
  // a directive after an instruction is a comment
  assert.equal(parseContainerfile("FROM x\n# escape=`\nRUN a \\\n b\n").escape, "\\");
});

Deno.test("containerfile: heredocs", () => {
  const cf = parseContainerfile(
    "FROM x\nRUN <<EOF\necho one\necho two\nEOF\nCOPY <<-'END' /f\n\tliteral $X\n\tEND\nRUN cat <<A <<B\na\nA\nb\nB\nENV Y=1\n",
  );
  const [run, copy, two, envi] = cf.stages[0].instructions;
  assert.deepEqual(run.heredocs, [{ name: "EOF", body: "echo one\necho two\n", expand: true, chomp: false }]);
  assert.equal(run.line, 2);
  assert.deepEqual(copy.heredocs, [{ name: "END", body: "literal $X\n", expand: false, chomp: true }]);
  assert.equal(copy.line, 6);
  assert.deepEqual(two.heredocs.map((h) => h.body), ["a\n", "b\n"]);
  assert.equal(envi.cmd, "ENV");
  assert.equal(envi.line, 14);
});

Deno.test("containerfile: errors name the file and line", () => {
  const cases: [string, number, RegExp][] = [
    ["FROM x\nRUN a\n\nFOO bar\n", 4, /unknown instruction: FOO/],
    ["RUN a\nFROM x\n", 1, /before the first FROM/],
    ["FROM x\nCOPY --bogus=1 a b\n", 2, /unknown flag: --bogus/],
    ["FROM x\nRUN <<EOF\nno end\n", 2, /unterminated heredoc/],
    ["FROM x y\n", 1, /one or three arguments/],
    ["FROM x AS a\nFROM y AS a\n", 2, /duplicate stage name/],
    ["FROM x\nENV\n", 2, /ENV requires at least one argument/],
    ["FROM x\nCOPY onlyone\n", 2, /at least two arguments/],
    ["FROM x\nSHELL sh -c\n", 2, /JSON form/],
    ["# comment only\n", 1, /no FROM/],
  ];
  for (const [src, line, re] of cases) {
    assert.throws(() => parseContainerfile(src, "Dockerfile.test"), (e: unknown) => {
      assert.ok(e instanceof ContainerfileError, String(e));
      assert.equal(e.line, line, `${JSON.stringify(src)}: ${e.message}`);
      assert.match(e.message, new RegExp(`^Dockerfile\\.test:${line}: `));
      assert.match(e.message, re);
      assert.equal(e.exitCode, 125);
      return true;
    });
  }
});

Deno.test("vars: substitution forms, quotes and escapes", () => {
  const l = env({ A: "a", E: "", SP: "x y" });
  assert.equal(processWord("$A ${A} ${A}b $Ab", l), "a a ab ");
  assert.equal(processWord("${NO:-def} ${E:-def} ${E-def} ${A:-def}", l), "def def  a");
  assert.equal(processWord("${A:+set} ${E:+set} ${E+set} ${NO+set}", l), "set  set ");
  assert.equal(processWord("${NO:-${A}x}", l), "ax");
  assert.equal(processWord("'$A' \"$A\" \\$A", l), "$A a $A");
  assert.equal(processWord('"a \\" b"', l), 'a " b');
  assert.deepEqual(processWords('$SP "q r" s\\ t', l), ["x y", "q r", "s t"]);
  assert.equal(processWord("cost $5", l), "cost $5");
  assert.throws(() => processWord("${NO:?needed}", l), /needed/);
  assert.throws(() => processWord("${A", l), /missing '}'/);
  assert.equal(expandString("$A '$A'\n", l), "a 'a'\n");
  assert.equal(processWord("`$A", l, "`"), "$A");
});

Deno.test("vars: key=value pairs and the legacy form", () => {
  const l = env({ V: "1" });
  assert.deepEqual(keyValues("A=$V B=\"two words\" C='$V'", l), [["A", "1"], ["B", "two words"], [
    "C",
    "$V",
  ]]);
  assert.deepEqual(keyValues("KEY value with $V", l), [["KEY", "value with 1"]]);
  assert.deepEqual(keyValues("NAME", l, "\\", false), [["NAME", undefined]]);
  assert.deepEqual(keyValues("N=", l, "\\", false), [["N", ""]]);
});

Deno.test("ignore rules: Docker's patterns, ** and ! exceptions, parents match children", () => {
  const r = IgnoreRules.parse(
    "# comment\nsecret\n**/*.log\n!keep/important.log\n/abs/path\n./dot\nbuild/**/tmp\ndocs/[a-c]*.md\n",
  );
  const yes = ["secret", "secret/key", "a.log", "x/y/z.log", "abs/path", "abs/path/in", "dot", "build/tmp"];
  const no = ["keep/important.log", "secretly", "a.txt", "abs", "build/x/tmpx", "docs/d.md", "docs/a/b.md"];
  for (const p of yes) assert.ok(r.excludes(p), `${p} should be excluded`);
  for (const p of no) assert.ok(!r.excludes(p), `${p} should be kept`);
  assert.ok(r.excludes("build/a/b/tmp"));
  assert.ok(r.excludes("docs/b1.md"));
  assert.ok(r.hasExceptions);
  assert.ok(!IgnoreRules.parse("").excludes("anything"));
  // the last matching pattern wins
  const order = IgnoreRules.parse("!a.txt\n*.txt\n");
  assert.ok(order.excludes("a.txt"));
});

Deno.test("config steps: CMD/ENTRYPOINT forms and their interplay, ENV, WORKDIR, HEALTHCHECK", () => {
  const ins = (src: string) => parseContainerfile(`FROM x\n${src}\n`).stages[0].instructions[0];
  const x = { lookup: env({ V: "v" }), escape: "\\", shell: ["/bin/sh", "-c"], cmdSet: false };
  let c = applyConfigStep(ins("CMD echo $V"), {}, x).config;
  assert.deepEqual(c.Cmd, ["/bin/sh", "-c", "echo $V"]);
  c = applyConfigStep(ins('ENTRYPOINT ["run"]'), { Cmd: ["inherited"] }, x).config;
  assert.deepEqual(c.Entrypoint, ["run"]);
  assert.equal(c.Cmd, null, "an ENTRYPOINT resets a CMD inherited from the base");
  c = applyConfigStep(ins('ENTRYPOINT ["run"]'), { Cmd: ["mine"] }, { ...x, cmdSet: true }).config;
  assert.deepEqual(c.Cmd, ["mine"]);
  c = applyConfigStep(ins('ENV A=$V B="x y"'), { Env: ["A=old", "P=1"] }, x).config;
  assert.deepEqual(c.Env, ["A=v", "P=1", "B=x y"]);
  c = applyConfigStep(ins("WORKDIR rel/$V"), { WorkingDir: "/base" }, x).config;
  assert.equal(c.WorkingDir, "/base/rel/v");
  c = applyConfigStep(ins("HEALTHCHECK --interval=5s --retries=2 CMD curl -f localhost"), {}, x).config;
  assert.deepEqual(c.Healthcheck, { Test: ["CMD-SHELL", "curl -f localhost"], Interval: 5e9, Retries: 2 });
  c = applyConfigStep(ins("EXPOSE 80 53/UDP"), {}, x).config;
  assert.deepEqual(Object.keys(c.ExposedPorts!), ["80/tcp", "53/udp"]);
  assert.throws(() => applyConfigStep(ins("EXPOSE eighty"), {}, x), ConfigError);
  const sh = applyConfigStep(ins('SHELL ["/bin/bash", "-xc"]'), {}, x);
  assert.deepEqual(sh.shell, ["/bin/bash", "-xc"]);
  assert.equal(parseDuration("1m30s"), 90e9);
});
