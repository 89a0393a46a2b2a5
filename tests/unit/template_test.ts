import assert from "node:assert/strict";
import {
  compileTemplate,
  goMap,
  goStruct,
  headerName,
  normalizeFormat,
  renderTemplateRows,
  splitCamelCase,
  sprint,
  sprintf,
  sprintln,
  TemplateError,
} from "../../lib/format/template/mod.ts";
import { alignColumns, renderTable } from "../../lib/format/table.ts";
import { formatFloat, goQuote } from "../../lib/format/gofmt.ts";

const run = (src: string, data: unknown = {}, opts?: Parameters<typeof compileTemplate>[1]) =>
  compileTemplate(src, opts).execute(data);

function fails(src: string, data: unknown, re: RegExp): TemplateError {
  try {
    run(src, data);
  } catch (e) {
    assert.ok(e instanceof TemplateError, `not a TemplateError: ${e}`);
    assert.match(e.message, re);
    return e;
  }
  assert.fail(`expected ${src} to fail`);
}

const data = {
  ID: "abc",
  Name: "box",
  N: 3,
  F: 1.5,
  B: true,
  Empty: "",
  Zero: 0,
  List: ["a", "b", "c"],
  Nums: [3, 1, 2],
  NoList: [] as string[],
  Null: null,
  Labels: { b: "2", a: "1" },
  State: { Status: "running", Pid: 42, Running: true },
  Nested: { Inner: { Value: "deep" } },
  Method: { greet: (who: string) => `hi ${who}`, get: () => "got" },
};

Deno.test("template: text, fields, dot, $", () => {
  assert.equal(run("hello"), "hello");
  assert.equal(run(""), "");
  assert.equal(run("{{.ID}}", data), "abc");
  assert.equal(run("{{.State.Status}}", data), "running");
  assert.equal(run("{{.Nested.Inner.Value}}", data), "deep");
  assert.equal(run("{{.}}", "str"), "str");
  assert.equal(run("{{with .State}}{{$.ID}}-{{.Pid}}{{end}}", data), "abc-42");
  assert.equal(run("{{.N}} {{.F}} {{.B}} {{.Zero}}", data), "3 1.5 true 0");
  assert.equal(run("{{(.State).Status}}", data), "running");
});

Deno.test("template: Go default printing", () => {
  assert.equal(run("{{.List}}", data), "[a b c]");
  assert.equal(run("{{.NoList}}", data), "[]");
  assert.equal(run("{{.Labels}}", data), "map[a:1 b:2]");
  assert.equal(run("{{.M}}", { M: goMap({}) }), "map[]");
  assert.equal(run("{{.State}}", data), "{running 42 true}");
  assert.equal(run("{{.Null}}", data), "<nil>");
  assert.equal(run("{{.Labels.missing}}", data), "<no value>");
  assert.equal(run("{{.M.x}}", { M: new Map([["x", 1]]) }), "1");
  assert.equal(run("{{.}}", [1, "a", null, [2]]), "[1 a <nil> [2]]");
  assert.equal(run("{{.}}", 1e21), "1e+21");
  assert.equal(run("{{.}}", 0.000001), "1e-06");
  assert.equal(run("{{.}}", 123456.7), "123456.7");
  assert.equal(run("{{.}}", 1234567.5), "1.2345675e+06");
  assert.equal(run("{{.}}", 12345678901234567890n), "12345678901234567890");
  assert.equal(run("{{.}}", new Date(Date.UTC(2024, 0, 2, 3, 4, 5))), "2024-01-02 03:04:05 +0000 UTC");
});

Deno.test("template: maps vs structs", () => {
  const e = fails("{{.Foo}}", data, /can't evaluate field Foo in type struct/);
  assert.equal(
    e.message,
    `template: output:1:2: executing "output" at <.Foo>: can't evaluate field Foo in type struct`,
  );
  assert.equal(e.line, 1);
  assert.equal(e.col, 2);
  fails(
    "x\n  {{.State.Nope}}",
    data,
    /^template: output:2:4: executing "output" at <.State.Nope>: can't evaluate field Nope/,
  );
  fails("{{.A}}", goStruct({}, "define.InspectContainerData"), /in type define.InspectContainerData$/);
  // Labels is a map by default (PODMAN_MAP_FIELDS); a goMap-marked object too
  assert.equal(run("{{.X.nope}}", { X: goMap({ a: "b" }) }), "<no value>");
  assert.equal(run("{{.Config.Labels.nope}}", { Config: { Labels: { a: "b" } } }), "<no value>");
  // a field named in mapFields is a map only when configured so
  assert.equal(
    compileTemplate("{{.Opts.x}}").execute({ Opts: { y: 1 } }, undefined, { mapFields: ["Opts"] }),
    "<no value>",
  );
  assert.throws(() =>
    compileTemplate("{{.Opts.x}}").execute({ Opts: { y: 1 } }, undefined, { mapFields: [] })
  );
  // null Labels behave like a nil map
  assert.equal(run('{{.Labels}}|{{index .Labels "a"}}|', { Labels: null }), "map[]||");
  fails("{{.List.Foo}}", data, /can't evaluate field Foo in type \[\]string/);
  fails("{{.ID.Foo}}", data, /can't evaluate field Foo in type string/);
  // fields of missing values are missing
  assert.equal(run("{{.Labels.x.y}}", data), "<no value>");
});

Deno.test("template: methods", () => {
  assert.equal(run(`{{.Method.greet "bob"}}`, data), "hi bob");
  assert.equal(run(`{{"ann" | .Method.greet}}`, data), "hi ann");
  assert.equal(run(`{{.Method.get}}`, data), "got");
  fails(`{{.ID "x"}}`, data, /ID has arguments but cannot be invoked as function/);
  fails(`{{.Labels.a "x"}}`, data, /a is not a method but has arguments/);
});

Deno.test("template: variables and scopes", () => {
  assert.equal(run("{{$x := 1}}{{$x}}{{$x = 2}}{{$x}}"), "12");
  assert.equal(run("{{$x := .ID}}{{with .State}}{{$x}}{{.Status}}{{end}}", data), "abcrunning");
  assert.equal(run("{{$}}", "root"), "root");
  assert.equal(run("{{if true}}{{$y := 1}}{{$y}}{{end}}"), "1");
  assert.throws(() => compileTemplate("{{if true}}{{$y := 1}}{{end}}{{$y}}"), /undefined variable "\$y"/);
  assert.throws(() => compileTemplate("{{$z}}"), /undefined variable "\$z"/);
  assert.equal(run("{{$x := 0}}{{range .List}}{{$x = .}}{{end}}{{$x}}", data), "c");
  assert.equal(run("{{$x := .State}}{{$x.Status}}", data), "running");
});

Deno.test("template: if / else if / else, with / else with", () => {
  assert.equal(run("{{if .B}}y{{else}}n{{end}}", data), "y");
  assert.equal(run("{{if .Empty}}y{{else}}n{{end}}", data), "n");
  assert.equal(run("{{if .Zero}}a{{else if .N}}b{{else}}c{{end}}", data), "b");
  assert.equal(run("{{if .Zero}}a{{else if .Empty}}b{{else}}c{{end}}", data), "c");
  assert.equal(run("{{if .NoList}}a{{else}}empty{{end}}", data), "empty");
  assert.equal(run("{{if .Null}}a{{else}}nil{{end}}", data), "nil");
  assert.equal(run("{{if .Missing}}a{{else}}no{{end}}", goMap({})), "no");
  assert.equal(run("{{if .State}}struct{{end}}", data), "struct");
  assert.equal(run("{{with .Empty}}x{{else}}e{{end}}", data), "e");
  assert.equal(run("{{with .Empty}}x{{else with .ID}}{{.}}{{end}}", data), "abc");
  assert.equal(run("{{with $v := .ID}}{{$v}}{{.}}{{end}}", data), "abcabc");
});

Deno.test("template: range", () => {
  assert.equal(run("{{range .List}}[{{.}}]{{end}}", data), "[a][b][c]");
  assert.equal(run("{{range $i, $e := .List}}{{$i}}{{$e}}{{end}}", data), "0a1b2c");
  assert.equal(run("{{range $e := .List}}{{$e}}{{end}}", data), "abc");
  assert.equal(run("{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}", data), "a=1;b=2;");
  assert.equal(run("{{range .Labels}}{{.}}{{end}}", data), "12");
  assert.equal(run("{{range .NoList}}x{{else}}none{{end}}", data), "none");
  assert.equal(run("{{range .Null}}x{{else}}none{{end}}", data), "none");
  assert.equal(run('{{range .List}}{{if eq . "b"}}{{continue}}{{end}}{{.}}{{end}}', data), "ac");
  assert.equal(run('{{range .List}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}', data), "a");
  assert.equal(run("{{range 3}}{{.}}{{end}}"), "012");
  assert.equal(run("{{range $i, $x := .Nums}}{{range $.List}}{{$i}}{{end}}{{end}}", data), "000111222");
  assert.equal(run("{{range .M}}{{.}}{{end}}", { M: new Map([[2, "b"], [1, "a"], [10, "c"]]) }), "abc");
  fails("{{range .ID}}{{end}}", data, /range can't iterate over abc/);
  assert.throws(() => compileTemplate("{{break}}"), /{{break}} outside {{range}}/);
  assert.throws(() => compileTemplate("{{if true}}{{continue}}{{end}}"), /{{continue}} outside {{range}}/);
});

Deno.test("template: whitespace trimming and comments", () => {
  assert.equal(run("a  {{- 1 -}}  b"), "a1b");
  assert.equal(run("a\n\t{{- 1}}\n b"), "a1\n b");
  assert.equal(run("{{-3}}"), "-3");
  assert.equal(run("x{{/* comment */}}y"), "xy");
  assert.equal(run("x {{- /* comment */ -}} y"), "xy");
  assert.equal(run("{{/* multi\nline */}}ok"), "ok");
  assert.throws(() => compileTemplate("{{/* x */ }}"), /comment ends before closing delimiter/);
  assert.throws(() => compileTemplate("{{/* x"), /unclosed comment/);
});

Deno.test("template: constants", () => {
  assert.equal(run("{{`raw\\n`}}"), "raw\\n");
  assert.equal(run(String.raw`{{"tab\there\u00e9\x41\101"}}`), "tab\thereéAA");
  assert.equal(run("{{'a'}} {{'\\n'}}"), "97 10");
  assert.equal(run("{{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}} {{-5}} {{+5}}"), "31 15 15 5 1000 -5 5");
  assert.equal(run("{{1.5}} {{1e3}} {{.5}}"), "1.5 1000 0.5");
  assert.equal(run("{{true}} {{false}}"), "true false");
  fails("{{nil}}", {}, /nil is not a command/);
  assert.throws(() => compileTemplate("{{1x}}"), /bad number syntax: "1x"/);
  assert.throws(() => compileTemplate(`{{"abc}}`), /unterminated quoted string/);
  assert.throws(() => compileTemplate("{{`abc}}"), /unterminated raw quoted string/);
});

Deno.test("template: pipelines and parentheses", () => {
  assert.equal(run(`{{.ID | printf "%q"}}`, data), `"abc"`);
  assert.equal(run(`{{. | printf "%q"}}`, "x"), `"x"`);
  assert.equal(run(`{{"a" | printf "%s-%s" "b"}}`), "b-a");
  assert.equal(run(`{{.List | len | printf "%03d"}}`, data), "003");
  assert.equal(run(`{{printf "%s=%d" (index .List 1) (len .List)}}`, data), "b=3");
  assert.equal(run(`{{(index .Nested "Inner").Value}}`, { Nested: goMap({ Inner: { Value: 7 } }) }), "7");
  assert.equal(run(`{{$x := "a" | printf "%s!"}}{{$x}}`), "a!");
  fails(`{{"a" | "b"}}`, {}, /non executable command in pipeline stage 2/);
  fails(`{{.ID 1}}`, data, /ID has arguments/);
  fails(`{{$x := 1}}{{$x 2}}`, {}, /can't give argument to non-function \$x/);
});

Deno.test("template: and / or / not short-circuit and return values", () => {
  assert.equal(run(`{{and 1 "x" 3}}`), "3");
  assert.equal(run(`{{and 1 0 3}}`), "0");
  assert.equal(run(`{{or 0 "" "z"}}`), "z");
  assert.equal(run(`{{or 0 ""}}`), "");
  assert.equal(run(`{{not 0}} {{not "x"}}`), "true false");
  // the second operand would fail (slice out of range) but is never evaluated
  assert.equal(run(`{{and (gt (len .) 10) (slice . 0 10)}}`, "short"), "false");
  assert.equal(run(`{{or .ID (index .List 99)}}`, data), "abc");
  assert.equal(run(`{{"" | or "x"}}`), "x");
  assert.equal(run(`{{0 | and 1}}`), "0");
});

Deno.test("template: comparison functions", () => {
  assert.equal(
    run(`{{eq 1 1}} {{eq "a" "b"}} {{eq .ID "x" "abc"}} {{ne 1 2}}`, data),
    "true false true true",
  );
  assert.equal(run(`{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1.5 2}}`), "true true true false");
  assert.equal(
    run(`{{eq true true}} {{eq .Null nil}} {{eq .Missing "x"}}`, goMap({ Null: null })),
    "true true false",
  );
  fails(`{{eq 1 "1"}}`, {}, /error calling eq: incompatible types for comparison/);
  fails(`{{lt true false}}`, {}, /error calling lt: invalid type for comparison/);
  fails(`{{lt 1 "a"}}`, {}, /incompatible types for comparison/);
  fails(`{{eq 1}}`, {}, /missing argument for comparison/);
  fails(`{{eq .List .List}}`, data, /non-comparable types/);
});

Deno.test("template: len, index, slice", () => {
  assert.equal(run(`{{len .List}} {{len .Labels}} {{len "héllo"}}`, data), "3 2 6");
  assert.equal(run(`{{index .List 1}} {{index .Labels "b"}} {{index "abc" 1}}`, data), "b 2 98");
  assert.equal(run(`{{index .M "a" 1}}`, { M: goMap({ a: [5, 6] }) }), "6");
  assert.equal(run(`{{index .M "x" "y"}}`, { M: goMap({ x: goMap({ y: "z" }) }) }), "z");
  assert.equal(run(`[{{index .Labels "nope"}}]`, data), "[]"); // map[string]string zero value
  assert.equal(run(`[{{index .M "nope"}}]`, { M: goMap({ a: 1, b: "x" }) }), "[<no value>]");
  assert.equal(run(`[{{index .M "nope"}}]`, { M: goMap({ a: 1 }, 0) }), "[0]");
  fails(`{{index .List 3}}`, data, /error calling index: reflect: slice index out of range/);
  fails(
    `{{index .List 5}}`,
    data,
    /^template: output:1:2: executing "output" at <index .List 5>: error calling index: index out of range: 5$/,
  );
  fails(`{{index .List -1}}`, data, /index out of range: -1/);
  fails(`{{index .List "a"}}`, data, /cannot index slice\/array with type string/);
  fails(`{{index .Missing 1}}`, goMap({}), /index of untyped nil/);
  fails(`{{index 5 1}}`, {}, /can't index item of type int/);
  assert.equal(run(`{{slice "hello" 1 3}} {{slice "hello" 2}} {{slice "hello"}}`), "el llo hello");
  assert.equal(run(`{{slice .List 1}} {{slice .List 0 2}} {{slice .List 1 2 3}}`, data), "[b c] [a b] [b]");
  fails(`{{slice "abc" 0 5}}`, {}, /error calling slice: index out of range: 5/);
  fails(`{{slice "abc" 2 1}}`, {}, /invalid slice index: 2 > 1/);
  fails(`{{slice "abc" 0 1 2}}`, {}, /cannot 3-index slice a string/);
  fails(`{{slice 5 1}}`, {}, /can't slice item of type int/);
  fails(`{{len 5}}`, {}, /error calling len: len of type int/);
  fails(`{{len}}`, {}, /wrong number of args for len: want 1 got 0/);
});

Deno.test("template: print, println, html, js, urlquery", () => {
  assert.equal(run(`{{print "a" "b" 1 2 "c"}}`), "ab1 2c");
  assert.equal(run(`{{println "a" 1}}`), "a 1\n");
  assert.equal(
    run(String.raw`{{html "<a href='x'>&\"</a>"}}`),
    "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;",
  );
  assert.equal(
    run(String.raw`{{js "it's <b>\"x\"</b> = \\"}}`),
    String.raw`it\'s \u003Cb\u003E\"x\"\u003C/b\u003E \u003D \\`,
  );
  assert.equal(run(`{{urlquery "a b&c=d/é"}}`), "a+b%26c%3Dd%2F%C3%A9");
  assert.equal(run(`{{html .Missing}}`, goMap({})), "&lt;no value&gt;");
});

Deno.test("template: printf verbs (Go fmt)", () => {
  const cases: [string, unknown[], string][] = [
    ["%s", ["x"], "x"],
    ["%d", [42], "42"],
    ["%v", [[1, "a"]], "[1 a]"],
    ["%5s|%-5s|", ["ab", "ab"], "   ab|ab   |"],
    ["%05s", ["ab"], "   ab"],
    ["%-10s|", ["hi"], "hi        |"],
    ["%.2s", ["héllo"], "hé"],
    ["%5d|%-5d|%05d|%+d|% d", [42, 42, -42, 5, 5], "   42|42   |-0042|+5| 5"],
    ["%x %X %o %O %b %#x %#o", [255, 255, 8, 8, 5, 255, 8], "ff FF 10 0o10 101 0xff 010"],
    ["%x % x %X", ["hi", "hi", "hé"], "6869 68 69 68C3A9"],
    ["%c %U %#U %q", [65, 0x1f600, 65, 97], "A U+1F600 U+0041 'A' 'a'"],
    ["%t %v", [true, false], "true false"],
    [
      "%f %.2f %8.3f %e %E %g",
      [3.14159, 2.675, -1.5, 1234.5678, 0.00012, 1e-7],
      "3.141590 2.67   -1.500 1.234568e+03 1.200000E-04 1e-07",
    ],
    ["%.0f %.0f %.0f %.1f", [0.5, 1.5, 2.5, 0.05], "0 2 2 0.1"],
    [
      "%.3g %.3g %.3g %g %g %g",
      [999.999, 1.5, 0.0001234, 100000.5, 1e21, 1e6],
      "1e+03 1.5 0.000123 100000.5 1e+21 %!g(int=1000000)",
    ],
    ["%v %v %v", [NaN, Infinity, -Infinity], "NaN +Inf -Inf"],
    ["%%|%d%%", [5], "%|5%"],
    ["%d", ["x"], "%!d(string=x)"],
    ["%s", [5], "%!s(int=5)"],
    ["%d", [1.5], "%!d(float64=1.5)"],
    ["%t", ["x"], "%!t(string=x)"],
    ["%s", [null], "%!s(<nil>)"],
    ["%v", [null], "<nil>"],
    ["%d %d", [1], "1 %!d(MISSING)"],
    ["%d", [1, "a", null], "1%!(EXTRA string=a, <nil>)"],
    ["x%", [], "x%!(NOVERB)"],
    ["%z", [1], "%!z(int=1)"],
    ["%[2]s %[1]s", ["a", "b"], "b a"],
    ["%*d|%-*d|%.*f", [4, 7, 3, 1, 2, 3.14159], "   7|1  |3.14"],
    ["%T %T %T %T %T", [1, "s", 1.5, [1], true], "int string float64 []int bool"],
    ["%s", [["a", "b"]], "[a b]"],
    ["%q", [["a", "b"]], `["a" "b"]`],
    ["%d", [[1, 2]], "[1 2]"],
    ["%v", [goMap({ b: 2, a: 1 })], "map[a:1 b:2]"],
    ["%+v", [{ A: 1, B: "x" }], "{A:1 B:x}"],
    ["%v", [{ A: 1, B: "x" }], "{1 x}"],
    ["%5v", [[1, 2]], "[    1     2]"],
    ["%q", ['héllo\n\t\x00\u00a0"\\'], String.raw`"héllo\n\t\x00\u00a0\"\\"`],
    ["%+q", ["é"], String.raw`"\u00e9"`],
    ["%#q", ['a"b'], '`a"b`'],
    ["%#q", ["a`b"], '"a`b"'],
    ["%99999999d", [1], "%!(NOVERB)%!(EXTRA int=1)"],
  ];
  for (const [f, args, want] of cases) assert.equal(sprintf(f, args), want, `sprintf(${f})`);
  assert.equal(sprint(["a", 1, 2, "b", "c", 3]), "a1 2bc3");
  assert.equal(sprintln(["a", 1]), "a 1\n");
  assert.equal(run(`{{printf "%s|%5.1f|%x" .ID .F .N}}`, data), "abc|  1.5|3");
  assert.equal(run(`{{printf "%v" .Missing}}`, goMap({})), "<nil>");
});

Deno.test("template: strconv.Quote compatibility", () => {
  assert.equal(goQuote("é"), `"é"`);
  assert.equal(goQuote("\x07\x08\x0c\x0b\r\x7f"), `"\\a\\b\\f\\v\\r\\x7f"`);
  assert.equal(goQuote("\u2028😀\u{e0001}"), `"\\u2028😀\\U000e0001"`);
  assert.equal(run(`{{printf "%q" .}}`, "/home/u"), `"/home/u"`);
});

Deno.test("template: float formatting like strconv", () => {
  assert.equal(formatFloat(0, "g", -1), "0");
  assert.equal(formatFloat(0, "e", 2), "0.00e+00");
  assert.equal(formatFloat(-0.5, "f", 0), "-0");
  assert.equal(formatFloat(1e23, "f", 1), "99999999999999991611392.0");
  assert.equal(formatFloat(5e-324, "g", -1), "5e-324");
  assert.equal(formatFloat(123.456, "e", -1), "1.23456e+02");
  assert.equal(formatFloat(0.125, "g", 2), "0.12");
  assert.equal(formatFloat(0.375, "g", 2), "0.38");
});

Deno.test("template: podman functions", () => {
  assert.equal(
    run(`{{upper .ID}} {{lower "ABC"}} {{title "hello big-world"}}`, data),
    "ABC abc Hello Big-World",
  );
  assert.equal(run(`{{join .List ","}}`, data), "a,b,c");
  assert.equal(run(`{{join .Null ","}}|`, data), "|");
  assert.equal(run(`{{split "a:b:c" ":"}} {{len (split "a:b" ":")}}`), "[a b c] 2");
  assert.equal(run(`{{truncate "abcdef" 3}} {{truncate "ab" 3}}`), "abc ab");
  assert.equal(run(`[{{pad "x" 1 2}}][{{pad "" 1 2}}]`), "[ x  ][]");
  assert.equal(
    run(`{{json .List}} {{json .Labels}} {{json "<&>"}} {{json .Null}}`, data),
    `["a","b","c"] {"a":"1","b":"2"} "<&>" null`,
  );
  assert.equal(
    run(`{{json .}}`, { S: "a\u2028\n\x01", N: 1.5, B: false, U: undefined }),
    `{"S":"a\\u2028\\n\\u0001","N":1.5,"B":false}`,
  );
  fails(`{{upper 5}}`, {}, /wrong type for value; expected string; got int/);
  fails(`{{join "abc" ","}}`, {}, /expected \[\]string; got string/);
  assert.equal(run(`{{ß}}`, {}, { funcs: { "ß": () => "custom" } }), "custom");
  assert.equal(compileTemplate(`{{f 2}}`, { funcs: { f: (x: number) => x * 2 } }).execute({}), "4");
  assert.equal(
    compileTemplate(`{{f 2}}`, { funcs: { f: () => 0 } }).execute({}, { f: (x: number) => x * 3 }),
    "6",
  );
  assert.throws(() => compileTemplate(`{{nofunc 1}}`), /function "nofunc" not defined/);
  assert.throws(
    () =>
      compileTemplate(`{{boom}}`, {
        funcs: {
          boom: () => {
            throw new Error("kaput");
          },
        },
      }).execute({}),
    /error calling boom: kaput/,
  );
});

Deno.test("template: define / template / block", () => {
  assert.equal(run(`{{define "x"}}[{{.}}]{{end}}{{template "x" .ID}}{{template "x" "y"}}`, data), "[abc][y]");
  assert.equal(run(`{{block "b" .N}}<{{.}}>{{end}}`, data), "<3>");
  fails(`{{template "nope"}}`, {}, /no such template "nope"/);
  fails(`{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}`, {}, /exceeded maximum template depth/);
});

Deno.test("template: parse errors carry positions", () => {
  const cases: [string, RegExp][] = [
    ["{{.ID", /^template: output:1:0: unclosed action$/],
    ["{{.x }a}}", /^template: output:1:5: unexpected "}" in operand$/],
    ["{{end}}", /^template: output:1:2: unexpected {{end}}$/],
    ["{{else}}", /unexpected {{else}}/],
    ["{{if .X}}", /^template: output:1:9: unexpected EOF$/],
    ["a\nb {{ .X | }}", /^template: output:2:10: missing command after \|$/],
    ["{{}}", /missing value for command/],
    ["{{range $i, $j, $k := .}}{{end}}", /too many declarations in range/],
    ["{{if}}{{end}}", /missing value for if/],
    ["{{(1}}", /unclosed left paren/],
    ["{{1)}}", /unexpected right paren/],
    ["{{.X.}}", /bad character|unexpected/],
    ['{{"a".X}}', /unexpected \. after term "\\"a\\""/],
    ["{{# }}", /unexpected "#" in command/],
    ["{{range .}}{{else if .}}{{end}}", /unexpected/],
  ];
  for (const [src, re] of cases) {
    try {
      compileTemplate(src);
      assert.fail(`no error for ${src}`);
    } catch (e) {
      assert.ok(e instanceof TemplateError, `${src}: ${e}`);
      assert.equal(e.kind, "parse");
      assert.match(e.message, re, src);
    }
  }
});

Deno.test("template: name option and exec error shape", () => {
  try {
    compileTemplate("{{.A.B}}", { name: "ps" }).execute({ A: { C: 1 } });
    assert.fail("no error");
  } catch (e) {
    assert.ok(e instanceof TemplateError);
    assert.equal(e.kind, "exec");
    assert.equal(
      e.message,
      `template: ps:1:2: executing "ps" at <.A.B>: can't evaluate field B in type struct`,
    );
  }
});

Deno.test("template: execution budget", () => {
  assert.throws(
    () => compileTemplate("{{range 100000000}}{{end}}").execute({}, undefined, { maxSteps: 10000 }),
    TemplateError,
  );
  assert.throws(
    () =>
      compileTemplate("{{range 1000}}{{range 1000}}xxxxxxxxxx{{end}}{{end}}").execute({}, undefined, {
        maxOutput: 1000,
      }),
    /output exceeds/,
  );
});

Deno.test("table: tabwriter alignment (minwidth 12, padding 2)", () => {
  assert.equal(
    alignColumns("a\tb\tc\naaaa\tbb\tc\n"),
    "a           b           c\naaaa        bb          c\n",
  );
  assert.equal(alignColumns("x\n"), "x\n");
  assert.equal(
    alignColumns("0123456789abcdef\tb\nx\ty\n"),
    "0123456789abcdef  b\nx                 y\n",
  );
  // a line without tabs ends the column block
  assert.equal(alignColumns("a\tb\nhello\nlonger text\tc\n"), "a           b\nhello\nlonger text  c\n");
  assert.equal(alignColumns("a\tb", { minwidth: 0, padding: 1 }), "a b");
  assert.equal(alignColumns("é\tx\nab\ty\n", { minwidth: 0, padding: 1 }), "é  x\nab y\n");
  assert.equal(alignColumns("a\t\tc\n", { minwidth: 0, padding: 1 }), "a  c\n");
  assert.equal(
    renderTable(["CONTAINER ID", "IMAGE", "NAMES"], [[
      "0123456789ab",
      "docker.io/library/alpine:latest",
      "box",
    ]]),
    "CONTAINER ID  IMAGE                            NAMES\n0123456789ab  docker.io/library/alpine:latest  box\n",
  );
});

Deno.test("render: podman table and format handling", () => {
  assert.equal(normalizeFormat("table {{.ID}} {{.Names}}"), "{{.ID}}\t{{.Names}}\n");
  assert.equal(normalizeFormat("{{.ID}}\\t{{.Names}}\\n"), "{{.ID}}\t{{.Names}}\n");
  assert.deepEqual(splitCamelCase("CreatedAt"), ["Created", "At"]);
  assert.deepEqual(splitCamelCase("ID"), ["ID"]);
  assert.deepEqual(splitCamelCase("PDFLoader"), ["PDF", "Loader"]);
  assert.deepEqual(splitCamelCase("GL11Version"), ["GL", "11", "Version"]);
  assert.deepEqual(splitCamelCase("vimRPCPlugin"), ["vim", "RPC", "Plugin"]);
  assert.equal(headerName(["CreatedHuman"], { CreatedHuman: "created" }), "CREATED");
  assert.equal(headerName(["State", "Status"]), "STATUS");
  const rows = [
    { ID: "0123456789ab", Names: "box", Labels: { a: "b" }, CreatedAt: "now" },
    { ID: "ffffffffffff", Names: "a-much-longer-name", Labels: {}, CreatedAt: "then" },
  ];
  assert.equal(
    renderTemplateRows("table {{.ID}}\\t{{.Names}}\\t{{.CreatedAt}}", rows, {
      headers: { ID: "container id" },
    }),
    "CONTAINER ID  NAMES               CREATED AT\n" +
      "0123456789ab  box                 now\n" +
      "ffffffffffff  a-much-longer-name  then\n",
  );
  assert.equal(renderTemplateRows("table {{.ID}}", []), "ID\n");
  assert.equal(renderTemplateRows("{{.Names}}", rows), "box\na-much-longer-name\n");
  assert.equal(renderTemplateRows("{{.Names}}\\n", rows), "box\na-much-longer-name\n");
  assert.equal(
    renderTemplateRows("{{.Names}}:{{.Labels}}", rows),
    "box:map[a:b]\na-much-longer-name:map[]\n",
  );
  assert.equal(renderTemplateRows("{{range .}}{{.Names}},{{end}}", rows), "box,a-much-longer-name,\n");
  assert.equal(
    renderTemplateRows("{{.ID}}\\t{{.Names}}", rows, { align: false }),
    "0123456789ab\tbox\nffffffffffff\ta-much-longer-name\n",
  );
  assert.equal(renderTemplateRows("table {{if .ID}}{{.Names}}{{end}}", rows.slice(0, 1)), "NAMES\nbox\n");
});
