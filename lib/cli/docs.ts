/**
 * What help, man pages and completion scripts are made of: every command and group subcommand with its spec,
 * loaded from the command table (lib/cli/registry.ts hands it in, so this module does not import the table
 * that imports it), and the roff man pages (`pod(1)`, `pod-<cmd>(1)`, `pod-<group>-<sub>(1)`) generated from the
 * same specs as `--help`.
 * @module
 */

import { type CommandSpec, loadCommand, type Loader } from "./flags.ts";

/** The parts of lib/cli/registry.ts's command table the docs are made of. */
export interface CommandTable {
  /** Top-level commands → their lazily loaded modules. */
  commands: Record<string, Loader>;
  /** Subcommand groups → summary and subcommands (a top-level command's name, or a module of its own). */
  groups: Record<string, { summary: string; sub: Record<string, string | Loader> }>;
}

/** One documented command: `pod run`, `pod volume create`. */
export interface CommandEntry {
  /** The words after `pod` (`["volume", "create"]`). */
  path: string[];
  /** Its spec (for a group's alias of a top-level command, that command's). */
  spec: CommandSpec;
  /** The top-level command it is another name of (`container ls` → `ps`). */
  aliasOf?: string;
}

/** A group as documented: its name, summary and subcommands. */
export interface GroupEntry {
  /** Group name (`volume`). */
  name: string;
  /** One line. */
  summary: string;
  /** Its subcommands, by name. */
  sub: CommandEntry[];
}

/** Every top-level command and every group's subcommands, with their specs, sorted by name. */
export async function collectCommands(
  table: CommandTable,
): Promise<{ commands: CommandEntry[]; groups: GroupEntry[] }> {
  const specs = new Map<string, CommandSpec>();
  for (const [name, load] of Object.entries(table.commands)) {
    try {
      specs.set(name, (await loadCommand(load)).spec);
    } catch { /* a command not built */ }
  }
  const commands = [...specs].map(([name, spec]) => ({ path: [name], spec }))
    .sort((a, b) => a.path[0].localeCompare(b.path[0]));
  const groups: GroupEntry[] = [];
  for (const [name, g] of Object.entries(table.groups).sort((a, b) => a[0].localeCompare(b[0]))) {
    const sub: CommandEntry[] = [];
    for (const [subName, target] of Object.entries(g.sub).sort((a, b) => a[0].localeCompare(b[0]))) {
      if (typeof target === "string") {
        const spec = specs.get(target);
        if (spec) sub.push({ path: [name, subName], spec, aliasOf: target });
      } else {
        try {
          sub.push({ path: [name, subName], spec: (await loadCommand(target)).spec });
        } catch { /* not built */ }
      }
    }
    groups.push({ name, summary: g.summary, sub });
  }
  return { commands, groups };
}

/** The text `pod GROUP --help` prints: its subcommands, each with its one-line summary. */
export function groupHelp(group: GroupEntry): string {
  const w = Math.max(0, ...group.sub.map((s) => s.path[1].length)) + 3;
  return [
    group.summary,
    "",
    "Usage:",
    `  pod ${group.name} [command]`,
    "",
    "Available Commands:",
    ...group.sub.map((s) => `  ${s.path[1].padEnd(w)}${s.spec.summary}`),
    "",
  ].join("\n");
}

/** roff-escapes text for a man page line (backslashes, hyphens, a leading dot or quote, non-ASCII as `\[uXXXX]`). */
export function roffEscape(s: string): string {
  const t = s.replace(/\\/g, "\\e").replace(/-/g, "\\-")
    .replace(
      /[^\t\n\u0020-\u007e]/gu,
      (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}]`,
    );
  return /^[.']/.test(t) ? `\\&${t}` : t;
}

/** The man page file name of an entry: `pod-volume-create.1`. */
export function manName(path: string[]): string {
  return `pod-${path.join("-")}.1`;
}

function header(name: string, version: string): string[] {
  return [`.TH ${name.toUpperCase()} 1 "" "pod ${version}" "pod Manual"`, ".nh", ".ad l"];
}

/** The man page of one command (roff), from its spec: name, synopsis, description, options, see also. */
export function commandManPage(e: CommandEntry, version: string): string {
  const s = e.spec;
  const full = `pod ${e.path.join(" ")}`;
  const usage = s.usage.replace(/^pod( [a-z][a-z0-9-]*)*/, "").trim();
  const lines = [
    ...header(`pod-${e.path.join("-")}`, version),
    ".SH NAME",
    `${roffEscape(`pod-${e.path.join("-")}`)} \\- ${roffEscape(s.summary)}`,
    ".SH SYNOPSIS",
    `.B ${roffEscape(full)}`,
    ...(usage ? [roffEscape(usage)] : []),
    ".SH DESCRIPTION",
    roffEscape(s.summary + "."),
  ];
  if (e.aliasOf) lines.push(".PP", `Another name of ${roffEscape(`pod ${e.aliasOf}`)}.`);
  if (s.aliases?.length) {
    lines.push(".PP", `Aliases: ${roffEscape([e.path.join(" "), ...s.aliases].join(", "))}.`);
  }
  const visible = s.flags.filter((f) => !f.hidden);
  if (visible.length) {
    lines.push(".SH OPTIONS");
    for (const f of visible) {
      const arg = f.type === "bool" ? "" : f.type === "int" ? " \\fIint\\fR" : " \\fIstring\\fR";
      const names = f.short ? `\\fB\\-${f.short}\\fR, \\fB\\-\\-${f.name}\\fR` : `\\fB\\-\\-${f.name}\\fR`;
      const def = f.default !== undefined && f.default !== false &&
          !(Array.isArray(f.default) && !f.default.length)
        ? ` (default ${JSON.stringify(f.default)})`
        : "";
      lines.push(".TP", names + arg, roffEscape(f.help + def));
    }
  }
  lines.push(".SH SEE ALSO", `\\fBpod\\fR(1)${e.path.length > 1 ? `, \\fBpod\\-${e.path[0]}\\fR(1)` : ""}`);
  return lines.join("\n") + "\n";
}

/** A group's man page (`pod-volume(1)`): its subcommands and their pages. */
export function groupManPage(g: GroupEntry, version: string): string {
  const lines = [
    ...header(`pod-${g.name}`, version),
    ".SH NAME",
    `pod\\-${roffEscape(g.name)} \\- ${roffEscape(g.summary)}`,
    ".SH SYNOPSIS",
    `.B pod ${roffEscape(g.name)}`,
    "\\fISUBCOMMAND\\fR",
    ".SH COMMANDS",
  ];
  for (const s of g.sub) lines.push(".TP", `\\fB${roffEscape(s.path[1])}\\fR`, roffEscape(s.spec.summary));
  lines.push(
    ".SH SEE ALSO",
    g.sub.map((s) => `\\fB${roffEscape(manName(s.path).slice(0, -2))}\\fR(1)`).join(", "),
  );
  return lines.join("\n") + "\n";
}

/** `pod(1)`: what pod is, the global options, every command. */
export function topManPage(all: { commands: CommandEntry[]; groups: GroupEntry[] }, version: string): string {
  const lines = [
    ...header("pod", version),
    ".SH NAME",
    "pod \\- a daemonless, rootless, podman\\-compatible container and image manager",
    ".SH SYNOPSIS",
    ".B pod",
    "[\\fIoptions\\fR] \\fICOMMAND\\fR",
    ".SH DESCRIPTION",
    "pod runs OCI containers and manages images, volumes and containers in a store of its own " +
    "($POD_HOME, else $XDG_DATA_HOME/pod, else ~/.local/share/pod), with podman's commands, flags, output " +
    "and exit codes. It needs no daemon; a rootless user's containers run in a user namespace with the " +
    "/etc/subuid ranges.",
    ".SH GLOBAL OPTIONS",
  ];
  const globals: [string, string][] = [
    ["\\-\\-root \\fIstring\\fR", "Path to the store."],
    [
      "\\-\\-log\\-level \\fIstring\\fR",
      "trace, debug, info, warn, warning, error, fatal or panic (default warn).",
    ],
    ["\\-\\-storage\\-driver \\fIstring\\fR", "overlay or vfs."],
    ["\\-\\-events\\-backend \\fIstring\\fR", "file or none (journald is taken as file)."],
    ["\\-\\-out \\fIstring\\fR", "Send pod's standard output to a file."],
    ["\\-\\-noout", "Do not write to standard output."],
    ["\\-\\-runtime \\fIstring\\fR", "Accepted and recorded; pod runs containers itself."],
    [
      "\\-\\-runroot, \\-\\-storage\\-opt, \\-\\-tmpdir, \\-\\-cgroup\\-manager",
      "Accepted for podman compatibility.",
    ],
    ["\\-v, \\-\\-version", "Print the version."],
  ];
  for (const [f, h] of globals) lines.push(".TP", `\\fB${f}\\fR`, h);
  lines.push(".SH COMMANDS");
  for (const c of all.commands) {
    lines.push(".TP", `\\fB${roffEscape(manName(c.path).slice(0, -2))}\\fR(1)`, roffEscape(c.spec.summary));
  }
  for (const g of all.groups) {
    lines.push(".TP", `\\fBpod\\-${roffEscape(g.name)}\\fR(1)`, roffEscape(g.summary));
  }
  lines.push(
    ".SH EXIT STATUS",
    "125 for an error of pod itself, 126 when the container command cannot be invoked, 127 when it is not " +
      "found, else the container command's exit code.",
    ".SH FILES",
    "$POD_HOME/events/events.log: the event log (\\fBpod\\-events\\fR(1)).",
  );
  return lines.join("\n") + "\n";
}

/** Every man page: file name → roff text. */
export async function manPages(table: CommandTable, version: string): Promise<Map<string, string>> {
  const all = await collectCommands(table);
  const pages = new Map<string, string>([["pod.1", topManPage(all, version)]]);
  for (const c of all.commands) pages.set(manName(c.path), commandManPage(c, version));
  for (const g of all.groups) {
    pages.set(`pod-${g.name}.1`, groupManPage(g, version));
    for (const s of g.sub) pages.set(manName(s.path), commandManPage(s, version));
  }
  return pages;
}
