/**
 * `pod exec`: run a process in a running container; its exit code is passed through. Without options (but
 * `-i`) it starts from the container's exec plan when there is one (container/exec_fast.ts); anything else,
 * and the first exec of a start, loads the full path on demand.
 * @module
 */

import { bool, defineCommand, int, str, strings } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { debug } from "../../log.ts";
import { execPlanned } from "../../container/exec_fast.ts";

export default defineCommand({
  name: "exec",
  usage: "pod exec [options] CONTAINER COMMAND [ARG...]",
  summary: "Run a process in a running container",
  flags: {
    detach: bool("d", "Run the exec session in detached mode (backgrounded)"),
    detachKeys: str("Select the key sequence for detaching a container", { ignored: true }),
    env: strings("e", "Set environment variables"),
    envFile: strings("Read in a file of environment variables"),
    interactive: bool("i", "Make STDIN available to the contained process"),
    latest: bool("l", "Act on the latest container pod is aware of"),
    preserveFds: int("Pass a number of additional file descriptors into the container", { default: 0 }),
    privileged: bool("Give the process extended Linux capabilities"),
    capAdd: strings("Add capabilities to the exec'd process"),
    tty: bool("t", "Allocate a pseudo-TTY"),
    user: str("u", "Sets the username or UID used and optionally the groupname or GID"),
    workdir: str("w", "Working directory inside the container"),
  },
  minArgs: 1,
  stopAtFirstArg: true,
  async run(flags, args, g) {
    const plain = !flags.latest && !flags.detach && !flags.env.length && !flags.envFile.length &&
      !flags.preserveFds && !flags.privileged && !flags.capAdd.length && !flags.tty &&
      flags.user === undefined &&
      flags.workdir === undefined;
    if (plain && args.length > 1) {
      const code = await execPlanned(g.root, args[0], args.slice(1), flags.interactive, true, debug);
      if (code !== undefined) return code;
    }
    const [{ readRunningContainer }, { expandEnvArg, readEnvFiles }, { execInContainer }] = await Promise.all(
      [
        import("../../store/container_running.ts"),
        import("../../container/process_options.ts"),
        import("../../container/exec.ts"),
      ],
    );
    let rec;
    if (flags.latest) {
      rec = (await (await import("../../store/container_records.ts")).listContainers(g.root))[0];
      if (!rec) throw new UsageError("no containers to run from");
    } else {
      // the short way for a running container; else the full lookup (id prefixes, a state to refresh, errors)
      rec = readRunningContainer(g.root, args[0]) ??
        await (await import("../../store/container_records.ts")).getContainer(g.root, args[0]);
      args = args.slice(1);
    }
    if (!args.length) {
      throw new UsageError(
        "must provide a non-empty command to start an exec session",
        "See 'pod exec --help'",
      );
    }
    const host = flags.envFile.length || flags.env.length ? Deno.env.toObject() : {};
    const env = [
      ...flags.envFile.length ? await readEnvFiles(flags.envFile, host) : [],
      ...flags.env.flatMap((e) => expandEnvArg(e, host)),
    ];
    if (flags.preserveFds) {
      const { checkPreserveFds } = await import("../preserve_fds.ts");
      checkPreserveFds(flags.preserveFds, flags.detach ? "-d" : undefined, Infinity);
    }
    const code = await execInContainer(g.root, rec, {
      args,
      env,
      user: flags.user,
      workdir: flags.workdir,
      tty: flags.tty,
      interactive: flags.interactive,
      detach: flags.detach,
      privileged: flags.privileged,
      capAdd: flags.capAdd,
      preserveFds: flags.preserveFds || undefined,
    });
    if (flags.detach) {
      const b = crypto.getRandomValues(new Uint8Array(32));
      (await import("../output.ts")).println(Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""));
    }
    return code;
  },
});
