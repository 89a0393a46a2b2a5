/**
 * `pod run`: create and start a container, in the foreground (exit code passed through) or detached (`-d`,
 * prints the id).
 * @module
 */

import { bool, defineCommand, int, strings } from "../flags.ts";
import { traceTime } from "../../log.ts";
import { checkPreserveFds } from "../preserve_fds.ts";
import { containerFlags, createOptions, newPodIfAsked, replaceExisting, startInfraEarly } from "./create.ts";

export default defineCommand({
  name: "run",
  usage: "pod run [options] IMAGE [COMMAND [ARG...]]",
  summary: "Run a command in a new container",
  flags: {
    ...containerFlags,
    detach: bool("d", "Run container in background and print container ID"),
    sigProxy: bool("Proxy received signals to the process", { default: true }),
    attach: strings("a", "Attach to STDIN, STDOUT or STDERR", { ignored: true }),
    preserveFds: int("Pass a number of additional file descriptors into the container", { default: 0 }),
  },
  minArgs: 1,
  stopAtFirstArg: true,
  async run(flags, args, g, given) {
    traceTime("run: begin");
    const o = createOptions(flags, args, g, "run");
    checkPreserveFds(
      flags.preserveFds,
      flags.detach ? "-d" : /(^|\/)runc$/.test(o.runtime ?? "") ? "--runtime runc" : undefined,
      5,
    );
    if (!given.has("tlsVerify")) o.tlsVerify = undefined; // registries.conf decides (imagesio3)
    // in the foreground without -i/-t, stage 2 starts first and comes up while the container is created
    // (awaited before loading the rest: module loading would delay the spawn)
    const early = flags.detach || o.tty || o.interactive || o.pod || /(^|\/)runc$/.test(o.runtime ?? "")
      ? undefined
      : await (await import("../../container/namespaces.ts")).startEarly(g.root, o);
    // pods9: detached, conmon and stage 2 start now and come up while the container is created (start_early.ts)
    const earlyDetached = flags.detach
      ? await (await import("../../container/start_early.ts")).startDetachedEarly(g.root, o)
      : undefined;
    traceTime("run: early stage 2 spawned");
    // a member joins its pod's infra container: start that while the modules load and this one is created
    let infra = o.pod && !o.pod.startsWith("new:") ? startInfraEarly(g.root, o.pod) : undefined;
    const [{ createContainer }, start, life, { ProgressPrinter }] = await Promise.all([
      import("../../container/create.ts"),
      import("../../container/start.ts"),
      import("../../container/lifecycle.ts"),
      import("../views/progress.ts"),
    ]);
    traceTime("run: create/start modules loaded");
    let rec;
    const progress = new ProgressPrinter({ quiet: o.quiet });
    try {
      if (flags.replace) await replaceExisting(g.root, o.name);
      if (o.pod?.startsWith("new:")) {
        await newPodIfAsked(g.root, o);
        infra = startInfraEarly(g.root, o.pod!);
      }
      rec = await createContainer(g.root, {
        ...o,
        preset: earlyDetached?.preset,
        onEvent: o.quiet ? undefined : progress.handle,
      });
    } catch (e) {
      early?.cancel();
      await earlyDetached?.cancel(true); // no record: its directory goes too
      await infra?.done;
      throw e;
    } finally {
      progress.finish();
    }
    traceTime("run: container created");
    // the member may join once the infra runs with its pid recorded; the rest of its launch overlaps
    await infra?.running;
    const id = rec.config.id;
    const cleanup = async () => {
      if (o.rm) await life.removeById(g.root, id, { force: true, volumes: true }).catch(() => {});
    };
    if (flags.detach) {
      early?.cancel();
      // pods10: loaded while the launch waits for stage 2, not after it (its table module: ~5 ms at the end)
      const output = import("../output.ts");
      output.catch(() => {}); // awaited below
      try {
        await start.startDetached(g.root, id, { early: earlyDetached?.conmon });
      } catch (e) {
        await infra?.done;
        await cleanup();
        throw e;
      }
      await infra?.done;
      (await output).println(id);
      return 0;
    }
    let code: number;
    try {
      code = await start.startForeground(
        g.root,
        id,
        {
          tty: !!o.tty,
          stdin: !!o.interactive,
          log: !o.rm,
          preserveFds: flags.preserveFds || undefined,
          removing: !!o.rm,
        },
        early,
      );
    } finally {
      traceTime("run: foreground start returned");
      await infra?.done;
      await cleanup();
      traceTime("run: removed");
    }
    return code;
  },
});
