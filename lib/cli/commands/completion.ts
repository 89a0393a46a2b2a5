/**
 * `pod completion bash|zsh|fish`: shell completion scripts generated from the command table, which
 * lib/cli/registry.ts hands in (`completionCommand`), so this module does not import the table that imports it.
 * @module
 */

import { type Command, type CommandSpec, defineCommand, loadCommand, type Loader } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { out } from "../output.ts";

/** The parts of lib/cli/registry.ts's command table the scripts are made of. */
export interface CompletionTable {
  /** Top-level commands → their lazily loaded modules. */
  commands: Record<string, Loader>;
  /** Subcommand groups (`container`, `image`, `system`) → their subcommand names. */
  groups: Record<string, { sub: Record<string, unknown> }>;
}

async function specs(commands: CompletionTable["commands"]): Promise<CommandSpec[]> {
  const all: CommandSpec[] = [];
  for (const load of Object.values(commands)) {
    try {
      all.push((await loadCommand(load)).spec);
    } catch { /* not built */ }
  }
  return all;
}

function flagWords(s: CommandSpec): string[] {
  return s.flags.filter((f) => !f.hidden).flatMap((
    f,
  ) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]);
}

function bash(all: CommandSpec[], groups: CompletionTable["groups"]): string {
  const names = [...all.map((s) => s.name), ...Object.keys(groups)].sort().join(" ");
  const cases = all.map((s) => `    ${s.name}) opts="${flagWords(s).join(" ")} --help" ;;`).join("\n");
  const groupCases = Object.entries(groups).map(([g, v]) =>
    `    ${g}) opts="${Object.keys(v.sub).join(" ")}" ;;`
  )
    .join("\n");
  return `# bash completion for pod
_pod() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" i opts=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  case "$cmd" in
    "") opts="${names} --help --version --log-level --root" ;;
${cases}
${groupCases}
  esac
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o default -F _pod pod
`;
}

function zsh(all: CommandSpec[]): string {
  const lines = all.map((s) => `    '${s.name}:${s.summary.replace(/'/g, "'\\''").replace(/:/g, "\\:")}'`)
    .join("\n");
  const flagCases = all.map((s) =>
    `    ${s.name}) _values 'flags' ${flagWords(s).map((w) => `'${w}'`).join(" ")} ;;`
  )
    .join("\n");
  return `#compdef pod
_pod() {
  local -a cmds
  cmds=(
${lines}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' cmds
    return
  fi
  case "$words[2]" in
${flagCases}
    *) _files ;;
  esac
}
compdef _pod pod
`;
}

function fish(all: CommandSpec[]): string {
  const out = ["# fish completion for pod", "complete -c pod -f"];
  for (const s of all) {
    out.push(`complete -c pod -n __fish_use_subcommand -a ${s.name} -d '${s.summary.replace(/'/g, "\\'")}'`);
    for (const f of s.flags.filter((f) => !f.hidden)) {
      const short = f.short ? ` -s ${f.short}` : "";
      const takes = f.type === "bool" ? "" : " -r";
      out.push(
        `complete -c pod -n '__fish_seen_subcommand_from ${s.name}' -l ${f.name}${short}${takes} -d '${
          f.help.replace(/'/g, "\\'")
        }'`,
      );
    }
  }
  return out.join("\n") + "\n";
}

/** The command generating its scripts from `table`. */
export function completionCommand(table: CompletionTable): Command {
  return defineCommand({
    name: "completion",
    usage: "pod completion [options] bash|zsh|fish",
    summary: "Generate shell autocompletions",
    minArgs: 1,
    maxArgs: 1,
    flags: {},
    async run(_flags, args) {
      const shell = args[0];
      const gen = { bash, zsh, fish }[shell];
      if (!gen) throw new UsageError(`unsupported shell "${shell}": use bash, zsh or fish`);
      out(gen(await specs(table.commands), table.groups) + "\n");
      return 0;
    },
  });
}
