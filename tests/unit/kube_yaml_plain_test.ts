/**
 * lib/container/kube/yaml_plain.ts against the npm `yaml` package (the reference): every text the fast path
 * answers for must give the same documents (values, numbers, lines) as the full parser; texts outside the
 * subset must be left to it (`undefined`).
 */

import assert from "node:assert/strict";
import { parsePlainYaml } from "../../lib/container/kube/yaml_plain.ts";
import type { YamlDoc } from "../../lib/container/kube/yaml_plain.ts";

// deno-lint-ignore no-explicit-any
type YamlModule = any;

async function loadYaml(): Promise<YamlModule | undefined> {
  try {
    // deno-lint-ignore no-import-prefix
    const m = await import("npm:yaml@2.9.1");
    return m.default ?? m;
  } catch {
    return undefined;
  }
}

const YAML = await loadYaml();
const why = YAML ? "" : "the npm package yaml@2.9.1 cannot be loaded (npm registry unreachable)";
if (why) console.log(`kube_yaml_plain_test skipped: ${why}`);

/** What lib/container/kube/yaml.ts's full path returns for `text`. */
function reference(text: string): YamlDoc[] {
  const lineOf = (offset: number) => text.slice(0, Math.max(0, offset)).split("\n").length;
  const out: YamlDoc[] = [];
  // deno-lint-ignore no-explicit-any
  for (const [i, d] of (YAML.parseAllDocuments(text, { uniqueKeys: true }) as any[]).entries()) {
    if (d.errors?.length) throw new Error(`reference error: ${d.errors[0].message}`);
    const value = d.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    out.push({ index: i + 1, line: lineOf(d.contents?.range?.[0] ?? d.range?.[0] ?? 0), value });
  }
  return out;
}

const SUPPORTED = [
  `apiVersion: v1\nkind: Pod\nmetadata: {name: benchkube}\nspec:\n  containers:\n  - name: a\n    image: localhost/bb:1\n` +
  `    imagePullPolicy: IfNotPresent\n    command: [sh, -c, "trap 'exit 0' TERM; sleep 1000 & wait"]\n`,
  `# a comment\n---\napiVersion: v1\nkind: Pod # trailing\nmetadata:\n  name: p\n  labels:\n    app: web\n` +
  `    app.kubernetes.io/name: x\nspec:\n  containers:\n    - name: c\n      image: "quay.io/x/y:1"\n` +
  `      args:\n        - -c\n        - 'it''s'\n        - "a \\"q\\" \\\\ \\n"\n      ports:\n` +
  `        - containerPort: 80\n          hostPort: 8080\n          protocol: TCP\n`,
  `a: 1\n---\nb: [1, -2, 0, true, False, null, ~, x y, "", '']\n---\n# only a comment then\nc: {k: v, n: 12}\n`,
  `image: 127.0.0.1:5000/busybox:latest\nv: [1.2.3, v1.0, 10.0.0.1, 1a, 2x3, 2024-01-01]\n`,
  `kind: ConfigMap\ndata:\n  key: value with spaces\n  url: http://example.com/a?b=c\n  yes: no\n  on: off\n`,
  `list:\n- a\n-\n- b: 1\n  c: 2\n- []\n- {}\nnext: 3\n`,
  `top:\n  inner:\n    deep:\n    - x\n    - y\n  other: z\nlast:\n`,
  `- 1\n- two\n- three: 3\n`,
  ``,
  `# nothing\n\n`,
];

const FALLBACK = [
  `a: &x 1\nb: *x\n`, // anchors
  `a: !!str 1\n`, // tags
  `a: |\n  text\n`, // block scalars
  `a: >\n  text\n`,
  `a: plain\n  continued\n`, // multi-line plain
  `a: "multi\n  line"\n`,
  `a: 1.5\n`, // floats
  `a: 0x1f\n`,
  `a: 0o17\n`,
  `a: 012\n`,
  `a: .inf\n`,
  `a: 1e3\n`,
  `a: 1_000\n`,
  `a: +1\n`,
  `a: -.5\n`,
  `a: 1.\n`,
  `a: 0b101\n`,
  `a: -0x1\n`,
  `a: 1\na: 2\n`, // duplicate key
  `a: 1\n---\n`, // an empty document
  `a: [b, [c]]\n`, // nested flow
  `a: [b,\n  c]\n`, // multi-line flow
  `a: b: c\n`,
  `a:\tb\n`,
  `a: 1\r\nb: 2\r\n`,
  `"quoted key": 1\n`,
  `? complex\n: key\n`,
  `- - nested\n`,
  `a:\n    b: 1\n  c: 2\n`, // odd indentation
  `true: 1\n`,
  `__proto__: {}\n`,
  `a: "\\x41"\n`,
  `%YAML 1.2\n---\na: 1\n`,
  `a: 1\n...\n`,
  `just a scalar\n`,
  ` a: 1\n`,
  `a: {b: 1, }\n`,
  `a: [1,,2]\n`,
  `a: {b:c}\n`,
  `a: [x:y]\n`,
  `a: 99999999999999999999\n`,
];

Deno.test({
  name: "kube YAML fast path: the same documents as the yaml package",
  ignore: !!why,
  fn() {
    for (const text of SUPPORTED) {
      const got = parsePlainYaml(text);
      assert.ok(got !== undefined, `fast path refused:\n${text}`);
      assert.deepStrictEqual(got, reference(text), text);
    }
  },
});

Deno.test("kube YAML fast path: anything outside the subset is left to the full parser", () => {
  for (const text of FALLBACK) assert.deepStrictEqual(parsePlainYaml(text), undefined, text);
});

/** A small deterministic generator (xorshift) of Kubernetes-like values. */
function generator(seed: number) {
  let x = seed >>> 0 || 1;
  const rnd = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const words = [
    "a",
    "name",
    "x y",
    "-c",
    "it's",
    'q"t',
    "http://h/p",
    "yes",
    "null",
    "1",
    "-1",
    "a: b",
    "#c",
    "",
    "127.0.0.1:5000/img:1",
    "1.2.3",
    "1e3",
    "0x1F",
    ".5",
    "1.5",
    "007",
    "10.0.0.1",
    "2024-01-01",
  ];
  const scalar = (): unknown =>
    [
      () => words[rnd(words.length)],
      () => rnd(1000) - 500,
      () => (rnd(1000) - 500) / 8, // floats: the full parser's (written plain by stringify)
      () => rnd(2) === 0,
      () => null,
    ][rnd(5)]();
  const value = (depth: number): unknown => {
    const k = depth > 3 ? 0 : rnd(3);
    if (k === 0) return scalar();
    if (k === 1) return Array.from({ length: rnd(4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = rnd(4); i > 0; i--) {
      o[["name", "image", "spec", "b.c/d", "k8s_x", "Env"][rnd(6)]] = value(depth + 1);
    }
    return o;
  };
  return { rnd, value };
}

Deno.test({
  name:
    "kube YAML fast path: generated documents, in block and flow styles, read as the yaml package reads them",
  ignore: !!why,
  fn() {
    let answered = 0;
    for (let seed = 1; seed <= 600; seed++) {
      const g = generator(seed);
      const docs = Array.from({ length: 1 + g.rnd(3) }, () => ({ kind: "Pod", spec: g.value(0) }));
      const text = docs.map((d) => YAML.stringify(d, { lineWidth: 0, flowCollectionPadding: false })).join(
        "---\n",
      );
      for (const t of [text, text.replaceAll("\n  - ", "\n  -   ")]) {
        let ref;
        try {
          ref = reference(t);
        } catch {
          continue; // not valid YAML after the edit: the fast path's answer is irrelevant
        }
        const got = parsePlainYaml(t);
        if (got === undefined) continue;
        answered++;
        assert.deepStrictEqual(got, ref, t);
      }
    }
    // most generated texts are in the subset: the comparison above is not vacuous
    if (answered < 300) throw new Error(`the fast path answered only ${answered} texts`);
  },
});
