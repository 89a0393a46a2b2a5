/**
 * Golden tests: the `--format` templates distrobox runs against `pod inspect` / `pod ps` data.
 */
import assert from "node:assert/strict";
import { compileTemplate, renderTemplateRows } from "../../lib/format/template/mod.ts";

const inspect = {
  Id: "4f1c7a0e9d2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5",
  Name: "box",
  State: { Status: "running", Running: true, Pid: 4242, ExitCode: 0 },
  Config: {
    Hostname: "box",
    Env: [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin",
      "HOME=/home/alice",
      "SHELL=/bin/zsh",
      "HOM",
      "SHELLX=no",
      "container=podman",
      "XDG_DATA_DIRS=/usr/share",
    ],
    Labels: {
      "manager": "distrobox",
      "distrobox.unshare_groups": "1",
      "com.github.containers.toolbox": "true",
    },
    Annotations: {},
  },
  Mounts: [],
};

const exec = (src: string, data: unknown = inspect) => compileTemplate(src).execute(data);

Deno.test("distrobox: label lookups", () => {
  assert.equal(exec(`{{ index .Config.Labels "distrobox.unshare_groups" }}`), "1");
  assert.equal(exec(`{{ index .Config.Labels "manager" }}`), "distrobox");
  // a missing label of a map[string]string is the empty string, not <no value>
  assert.equal(exec(`{{ index .Config.Labels "distrobox.missing" }}`), "");
  assert.equal(exec(`{{ index .Config.Labels "x" }}`, { Config: { Labels: null } }), "");
  assert.equal(exec(`{{ index .Config.Labels "x" }}`, { Config: { Labels: {} } }), "");
  assert.equal(
    exec(`{{.Config.Labels}}`),
    "map[com.github.containers.toolbox:true distrobox.unshare_groups:1 manager:distrobox]",
  );
});

Deno.test("distrobox: env extraction with slice and printf %q", () => {
  const home =
    `{{range .Config.Env}}{{if and (ge (len .) 5) (eq (slice . 0 5) "HOME=")}}{{slice . 5 | printf "%q"}}{{end}}{{end}}`;
  assert.equal(exec(home), `"/home/alice"`);
  const shell =
    `{{range .Config.Env}}{{if and (ge (len .) 6) (eq (slice . 0 6) "SHELL=")}}{{slice . 6 | printf "%q"}}{{end}}{{end}}`;
  assert.equal(exec(shell), `"/bin/zsh"`);
  const trimmed = `{{- range .Config.Env -}}
  {{- if and (ge (len .) 5) (eq (slice . 0 5) "HOME=") -}}
    {{- slice . 5 -}}
  {{- end -}}
{{- end -}}`;
  assert.equal(exec(trimmed), "/home/alice");
  // values needing escapes are quoted like Go's strconv.Quote
  const env = { Config: { Env: ['HOME=/home/a "b"\\c\té', "HOME"] } };
  assert.equal(exec(home, env), String.raw`"/home/a \"b\"\\c\té"`);
  // without the length guard, slice fails like Go
  assert.throws(
    () => exec(`{{range .Config.Env}}{{slice . 0 5}}{{end}}`),
    /error calling slice: index out of range: 5/,
  );
  // env printed as a whole
  assert.equal(exec(`{{.Config.Env}}`, { Config: { Env: ["A=1", "B=2"] } }), "[A=1 B=2]");
});

Deno.test("distrobox: state and ids", () => {
  assert.equal(exec(`{{.State.Status}}`), "running");
  assert.equal(exec(`{{.State.Status}}`, { State: { Status: "exited" } }), "exited");
  assert.equal(exec(`{{.State.Running}} {{.State.Pid}}`), "true 4242");
  assert.equal(exec(`{{.Name}}`), "box");
  assert.throws(() => exec(`{{.State.Nope}}`), /can't evaluate field Nope/);
});

Deno.test("distrobox: list format", () => {
  const rows = [
    {
      ID: "abc",
      Image: "img",
      Names: "box",
      Status: "Up 2 minutes",
      Labels: { manager: "distrobox" },
      Mounts: ["/a", "/b"],
    },
    {
      ID: "def",
      Image: "fedora:40",
      Names: "f40",
      Status: "Exited (0) 2 seconds ago",
      Labels: {},
      Mounts: [],
    },
  ];
  const f = "{{.ID}}|{{.Image}}|{{.Names}}|{{.Status}}|{{.Labels}}{{.Mounts}}";
  assert.equal(exec(f, rows[0]), "abc|img|box|Up 2 minutes|map[manager:distrobox][/a /b]");
  assert.equal(
    renderTemplateRows(f, rows),
    "abc|img|box|Up 2 minutes|map[manager:distrobox][/a /b]\ndef|fedora:40|f40|Exited (0) 2 seconds ago|map[][]\n",
  );
});

Deno.test("distrobox: json", () => {
  const j = exec(`{{json .}}`);
  assert.deepEqual(JSON.parse(j), inspect);
  // struct fields keep their order; map keys (Labels) are sorted like Go's encoder
  assert.ok(j.startsWith(`{"Id":"4f1c7a0e9d2b`), j);
  assert.ok(
    j.includes(
      `"Labels":{"com.github.containers.toolbox":"true","distrobox.unshare_groups":"1","manager":"distrobox"},"Annotations":{}}`,
    ),
    j,
  );
  assert.ok(j.endsWith(`"Mounts":[]}`), j);
  assert.ok(!j.includes("\n") && !j.includes(" "), "compact");
  assert.equal(
    exec(`{{json .Config.Labels}}`),
    `{"com.github.containers.toolbox":"true","distrobox.unshare_groups":"1","manager":"distrobox"}`,
  );
  assert.equal(exec(`{{json .State}}`), `{"Status":"running","Running":true,"Pid":4242,"ExitCode":0}`);
});
