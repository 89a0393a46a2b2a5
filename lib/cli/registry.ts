/**
 * The command table: names → lazily imported modules, so a command loads only what it uses.
 *
 * A command file either exports `default defineCommand({…})` (typed flags, lib/cli/flags.ts) or, in the older
 * style, `spec: CommandSpec` and `run(p: Parsed, g: Globals)`; {@link loadCommand} accepts both.
 * @module
 */

export { type CommandFile, type CommandModule, loadCommand, type Loader } from "./flags.ts";
import type { Loader } from "./flags.ts";

/** Top-level commands, in the order `pod help` lists them. */
export const commands: Record<string, Loader> = {
  attach: () => import("./commands/attach.ts"),
  commit: () => import("./commands/commit.ts"),
  completion: () => import("./commands/completion.ts").then((m) => m.completionCommand({ commands, groups })),
  cp: () => import("./commands/cp.ts"),
  create: () => import("./commands/create.ts"),
  diff: () => import("./commands/diff.ts"),
  exec: () => import("./commands/exec.ts"),
  export: () => import("./commands/export.ts"),
  history: () => import("./commands/history.ts"),
  images: () => import("./commands/images.ts"),
  import: () => import("./commands/import.ts"),
  info: () => import("./commands/info.ts"),
  inspect: () => import("./commands/inspect.ts"),
  kill: () => import("./commands/kill.ts"),
  load: () => import("./commands/load.ts"),
  login: () => import("./commands/login.ts"),
  logout: () => import("./commands/logout.ts"),
  logs: () => import("./commands/logs.ts"),
  pause: () => import("./commands/pause.ts"),
  port: () => import("./commands/port.ts"),
  ps: () => import("./commands/ps.ts"),
  pull: () => import("./commands/pull.ts"),
  push: () => import("./commands/push.ts"),
  rename: () => import("./commands/rename.ts"),
  restart: () => import("./commands/restart.ts"),
  rm: () => import("./commands/rm.ts"),
  rmi: () => import("./commands/rmi.ts"),
  run: () => import("./commands/run.ts"),
  save: () => import("./commands/save.ts"),
  search: () => import("./commands/search.ts"),
  start: () => import("./commands/start.ts"),
  stop: () => import("./commands/stop.ts"),
  tag: () => import("./commands/tag.ts"),
  top: () => import("./commands/top.ts"),
  unpause: () => import("./commands/unpause.ts"),
  untag: () => import("./commands/untag.ts"),
  update: () => import("./commands/update.ts"),
  version: () => import("./commands/version.ts"),
  wait: () => import("./commands/wait.ts"),
};

/** Top-level aliases podman has. */
export const aliases: Record<string, string> = { list: "ps", ls: "ps" };

/** Subcommand groups: `pod container ls`, `pod image rm`, `pod system prune`… (name → top-level command). */
export const groups: Record<string, { summary: string; sub: Record<string, string | Loader> }> = {
  container: {
    summary: "Manage containers",
    sub: {
      attach: "attach",
      commit: "commit",
      cp: "cp",
      create: "create",
      diff: "diff",
      exec: "exec",
      exists: () => import("./commands/container_exists.ts"),
      export: "export",
      inspect: "inspect",
      kill: "kill",
      list: "ps",
      logs: "logs",
      ls: "ps",
      pause: "pause",
      port: "port",
      ps: "ps",
      prune: () => import("./commands/container_prune.ts"),
      rename: "rename",
      restart: "restart",
      rm: "rm",
      run: "run",
      start: "start",
      stop: "stop",
      top: "top",
      unpause: "unpause",
      update: "update",
      wait: "wait",
    },
  },
  image: {
    summary: "Manage images",
    sub: {
      diff: "diff",
      exists: () => import("./commands/image_exists.ts"),
      tree: () => import("./commands/image_tree.ts"),
      history: "history",
      import: "import",
      inspect: "inspect",
      list: "images",
      load: "load",
      ls: "images",
      mount: () => import("./commands/image_mount.ts").then((m) => ({ default: m.mountCommand })),
      prune: () => import("./commands/image_prune.ts"),
      pull: "pull",
      push: "push",
      rm: "rmi",
      save: "save",
      tag: "tag",
      umount: () => import("./commands/image_mount.ts").then((m) => ({ default: m.umountCommand })),
      unmount: () => import("./commands/image_mount.ts").then((m) => ({ default: m.umountCommand })),
      untag: "untag",
    },
  },
  network: {
    summary: "Manage networks",
    sub: {
      connect: () => import("./commands/network_connect.ts").then((m) => ({ default: m.connectCommand })),
      create: () => import("./commands/network_create.ts"),
      disconnect: () =>
        import("./commands/network_connect.ts").then((m) => ({ default: m.disconnectCommand })),
      exists: () => import("./commands/network_exists.ts"),
      inspect: () => import("./commands/network_inspect.ts"),
      list: () => import("./commands/network_ls.ts"),
      ls: () => import("./commands/network_ls.ts"),
      prune: () => import("./commands/network_prune.ts"),
      reload: () => import("./commands/network_reload.ts"),
      remove: () => import("./commands/network_rm.ts"),
      rm: () => import("./commands/network_rm.ts"),
    },
  },
  system: {
    summary: "Manage pod",
    sub: {
      check: () => import("./commands/system_check.ts"),
      df: () => import("./commands/system_df.ts"),
      info: "info",
      prune: () => import("./commands/system_prune.ts"),
    },
  },
  volume: {
    summary: "Manage volumes",
    sub: {
      create: () => import("./commands/volume_create.ts"),
      exists: () => import("./commands/volume_exists.ts"),
      export: () => import("./commands/volume_export.ts"),
      import: () => import("./commands/volume_import.ts"),
      inspect: () => import("./commands/volume_inspect.ts"),
      list: () => import("./commands/volume_ls.ts"),
      ls: () => import("./commands/volume_ls.ts"),
      mount: () => import("./commands/volume_mount.ts").then((m) => ({ default: m.mountCommand })),
      prune: () => import("./commands/volume_prune.ts"),
      remove: () => import("./commands/volume_rm.ts"),
      rm: () => import("./commands/volume_rm.ts"),
      umount: () => import("./commands/volume_mount.ts").then((m) => ({ default: m.unmountCommand })),
      unmount: () => import("./commands/volume_mount.ts").then((m) => ({ default: m.unmountCommand })),
    },
  },
};
