/**
 * Golden tests: every Go template distrobox (1.4 as shipped by Debian bookworm, and 1.8) runs against
 * `podman inspect` / `podman ps`, rendered through pod's real data and output paths: a container record built
 * with the runtime's own parsers (mounts, labels, environment) → `inspectRecord` / `psRow` → the same
 * `renderTemplateRows` call the `inspect` and `ps` commands make.
 * @module
 */

import assert from "node:assert/strict";
import { HEADERS, psRow } from "../../lib/cli/views/ps.ts";
import { renderTemplateRows } from "../../lib/format/template/mod.ts";
import { inspectRecord } from "../../lib/container/inspect.ts";
import { etcRebinds, launchMounts } from "../../lib/container/launch_spec.ts";
import { parseMountFlags } from "../../lib/container/mount_options.ts";
import { buildEnv, parseLabels } from "../../lib/container/process_options.ts";
import type { ContainerMount, ContainerRecord, ContainerStatus } from "../../lib/store/containers.ts";

const ROOT = "/var/lib/pod-test";
const ID = "4a7e14c0d4b0" + "0123456789abcdef".repeat(3) + "0123";
const HOME = "/home/alice";
const IMAGE = "127.0.0.1:5000/test/distrobox-debian:bookworm";
const STARTED = "2025-05-20T10:00:00.000000000Z";

/** The mounts of distrobox 1.4's `create` for user alice (anonymous volume sources as pod resolves them). */
function distroboxMounts(): ContainerMount[] {
  const volumes = [
    "/:/run/host:rslave",
    "/dev:/dev:rslave",
    "/sys:/sys:rslave",
    "/tmp:/tmp:rslave",
    "/usr/bin/distrobox-init:/usr/bin/entrypoint:ro",
    "/usr/bin/distrobox-export:/usr/bin/distrobox-export:ro",
    "/usr/bin/distrobox-host-exec:/usr/bin/distrobox-host-exec:ro",
    `${HOME}:${HOME}:rslave`,
    "/var/log/journal",
    "/etc/hosts:/etc/hosts:ro",
    "/etc/localtime:/etc/localtime:ro",
    "/etc/resolv.conf:/etc/resolv.conf:ro",
  ];
  return parseMountFlags(volumes, ["type=devpts,destination=/dev/pts"], []).map((m) =>
    m.type === "volume"
      ? { ...m, name: "a".repeat(64), source: `${ROOT}/volumes/${"a".repeat(64)}/_data` }
      : m
  );
}

/** A record like the one `pod create` stores for distrobox's command line, in the given state. */
function record(status: ContainerStatus, extraEnv: string[] = []): ContainerRecord {
  const hostname = "box.vm";
  return {
    dir: `${ROOT}/containers/${ID}`,
    config: {
      id: ID,
      name: "box",
      created: "2025-05-20T09:59:00.000000000Z",
      image: {
        name: IMAGE,
        ref: IMAGE,
        id: "662e609eaf9d" + "0".repeat(52),
        digest: "sha256:" + "1".repeat(64),
      },
      layers: [],
      process: {
        entrypoint: ["/usr/bin/entrypoint"],
        cmd: ["-v", "--name", "alice", "--user", "1000", "--group", "1000", "--home", HOME],
        args: [
          "/usr/bin/entrypoint",
          "-v",
          "--name",
          "alice",
          "--user",
          "1000",
          "--group",
          "1000",
          "--home",
          HOME,
        ],
        env: buildEnv({
          imageEnv: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
          envFile: [],
          env: [
            "SHELL=/bin/bash",
            `HOME=${HOME}`,
            "TERMINFO_DIRS=/usr/share/terminfo:/run/host/usr/share/terminfo",
            ...extraEnv,
          ],
          hostname,
          terminal: false,
        }),
        cwd: "/",
        user: "root:root",
        terminal: false,
        stdin: false,
      },
      hostname,
      labels: parseLabels(["manager=distrobox", "distrobox.unshare_groups=0"]),
      annotations: parseLabels(["run.oci.keep_original_groups=1"]),
      mountArgs: [],
      mounts: distroboxMounts(),
      namespaces: { pid: "host", ipc: "host", uts: "private", net: "host" },
      userns: { mode: "host" },
      privileged: true,
      readOnly: false,
      stopSignal: "SIGTERM",
      stopTimeout: 10,
      autoRemove: false,
      createCommand: [],
    },
    state: {
      status,
      pid: status === "running" ? 4242 : 0,
      startedAt: status === "created" ? "0001-01-01T00:00:00Z" : STARTED,
      finishedAt: status === "exited" ? "2025-05-20T10:00:30.000000000Z" : "0001-01-01T00:00:00Z",
      exitCode: status === "exited" ? 143 : 0,
    },
  } as ContainerRecord;
}

/** `pod inspect --format T box`: what the inspect command renders (without the final newline handling). */
async function inspectFormat(format: string, rec: ContainerRecord): Promise<string> {
  return renderTemplateRows(format, [await inspectRecord(ROOT, rec)]);
}

/** `pod ps -a --no-trunc --format T`: what the ps command renders. */
function psFormat(format: string, recs: ContainerRecord[], now: number): string {
  return renderTemplateRows(format, recs.map((r) => psRow(r, true, now)), { headers: HEADERS });
}

const MOUNT_DESTS =
  "[/run/host /dev /sys /tmp /usr/bin/entrypoint /usr/bin/distrobox-export /usr/bin/distrobox-host-exec " +
  `${HOME} /var/log/journal /etc/hosts /etc/localtime /etc/resolv.conf /dev/pts]`;

Deno.test("distrobox: inspect {{.State.Status}} in every state (create/enter/rm)", async () => {
  for (const s of ["created", "running", "exited"] as const) {
    assert.equal(await inspectFormat("{{.State.Status}}", record(s)), `${s}\n`);
  }
});

Deno.test("distrobox 1.4 enter: eval'd status/HOME/PATH template", async () => {
  const t = `container_status={{.State.Status}};
	{{range .Config.Env}}{{if slice . 0 5 | eq "HOME="}}container_home={{slice . 5 | printf "%q"}};{{end}}{{end}}
	{{range .Config.Env}}{{if slice . 0 5 | eq "PATH="}}container_path={{slice . 5 | printf "%q"}}{{end}}{{end}}`;
  assert.equal(
    await inspectFormat(t, record("running")),
    // like podman, the output goes through a tabwriter (min width 12, padding 2): the leading tab of each
    // line becomes 12 spaces, which the shell's eval ignores
    `container_status=running;\n${" ".repeat(12)}container_home="${HOME}";\n${" ".repeat(12)}` +
      `container_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\n`,
  );
});

Deno.test("distrobox 1.4 enter: an env entry shorter than 5 bytes fails like Go's slice", async () => {
  const t = `{{range .Config.Env}}{{if slice . 0 5 | eq "HOME="}}{{slice . 5}}{{end}}{{end}}`;
  const rec = record("running", ["A=b"]);
  const data = await inspectRecord(ROOT, rec);
  assert.throws(() => renderTemplateRows(t, [data]));
});

Deno.test("distrobox 1.8 enter: guarded HOME template (and short-circuits, %q quoting)", async () => {
  const t = `{{range .Config.Env}}{{if and (ge (len .) 5) (eq (slice . 0 5) "HOME=")}}` +
    `{{slice . 5 | printf "%q"}}{{end}}{{end}}`;
  assert.equal(await inspectFormat(t, record("running", ["A=b"])), `"${HOME}"\n`);
  const quoted = record("running", [`HOME=/home/a "b"\\c`]);
  assert.equal(await inspectFormat(t, quoted), `"/home/a \\"b\\"\\\\c"\n`);
});

Deno.test("distrobox rm: HOME template without printf", async () => {
  const t = `{{range .Config.Env}}{{if slice . 0 5 | eq "HOME="}}{{slice . 5}}{{end}}{{end}}`;
  assert.equal(await inspectFormat(t, record("exited")), `${HOME}\n`);
});

Deno.test("distrobox 1.8 enter: index of the unshare_groups label", async () => {
  const t = `{{ index .Config.Labels "distrobox.unshare_groups" }}`;
  assert.equal(await inspectFormat(t, record("running")), "0\n");
  const plain = record("running");
  delete plain.config.labels["distrobox.unshare_groups"];
  assert.equal(await inspectFormat(t, plain), "\n");
});

Deno.test("distrobox 1.4 list: ps -a --no-trunc with {{.State}}, labels map and mounts", () => {
  const t = "{{.ID}}|{{.Image}}|{{.Names}}|{{.State}}|{{.Labels}}{{.Mounts}}";
  const now = Date.parse("2025-05-20T10:05:00Z");
  assert.equal(
    psFormat(t, [record("running"), record("exited")], now),
    `${ID}|${IMAGE}|box|running|map[distrobox.unshare_groups:0 manager:distrobox]${MOUNT_DESTS}\n` +
      `${ID}|${IMAGE}|box|exited|map[distrobox.unshare_groups:0 manager:distrobox]${MOUNT_DESTS}\n`,
  );
});

Deno.test("distrobox 1.8 list: ps -a --no-trunc with {{.Status}}", () => {
  const t = "{{.ID}}|{{.Image}}|{{.Names}}|{{.Status}}|{{.Labels}}{{.Mounts}}";
  const now = Date.parse("2025-05-20T10:05:00Z");
  const out = psFormat(t, [record("running"), record("exited"), record("created")], now).split("\n");
  assert.equal(
    out[0],
    `${ID}|${IMAGE}|box|Up 5 minutes|map[distrobox.unshare_groups:0 manager:distrobox]${MOUNT_DESTS}`,
  );
  assert.equal(
    out[1],
    `${ID}|${IMAGE}|box|Exited (143) 4 minutes ago|map[distrobox.unshare_groups:0 manager:distrobox]${MOUNT_DESTS}`,
  );
  assert.equal(
    out[2],
    `${ID}|${IMAGE}|box|Created|map[distrobox.unshare_groups:0 manager:distrobox]${MOUNT_DESTS}`,
  );
  // distrobox-list keeps a line when it contains "distrobox" (the label or a mount)
  assert.equal(out.slice(0, 3).every((l) => l.includes("distrobox")), true);
});

Deno.test("distrobox: --mount type=devpts becomes a bind of the host's /dev/pts", () => {
  const pts = distroboxMounts().find((m) => m.destination === "/dev/pts");
  assert.equal(pts?.type, "bind");
  assert.equal(pts?.source, "/dev/pts");
  assert.equal(pts?.recursive, false);
});

Deno.test("distrobox 1.8: a tmpfs on /run does not hide /run/.containerenv (bound again after it)", () => {
  const etc = {
    hosts: "/u/hosts",
    hostname: "/u/hostname",
    resolvConf: "/u/resolv.conf",
    containerEnv: "/u/.ce",
  };
  const mounts = launchMounts(
    {
      mounts: [
        ...parseMountFlags(["/etc/hosts:/etc/hosts:ro"], ["type=tmpfs,destination=/run"], []),
      ],
    } as unknown as ContainerRecord["config"],
  );
  assert.deepEqual(etcRebinds(etc, mounts), [
    { type: "bind", source: "/u/.ce", destination: "/run/.containerenv", recursive: false },
  ]);
  // nothing covers them: stage 2's own binds suffice
  assert.deepEqual(etcRebinds(etc, []), []);
});

Deno.test("distrobox 1.8: mounts are applied parents first (tmpfs /run before /:/run/host)", () => {
  const mounts = launchMounts(
    {
      mounts: parseMountFlags(["/tmp:/tmp:rslave", "/:/run/host/:rslave", "/dev/null:/dev/ptmx"], [
        "type=tmpfs,destination=/run",
      ], []),
    } as unknown as ContainerRecord["config"],
  );
  assert.deepEqual(mounts.map((m) => m.destination), ["/tmp", "/run", "/run/host", "/dev/ptmx"]);
});
