/** `pod port`: a container's published ports (`80/tcp -> 0.0.0.0:8080`), or one port's host addresses. @module */

import { bool, defineCommand } from "../flags.ts";
import { PodError, UsageError } from "../../errors.ts";

export default defineCommand({
  name: "port",
  usage: "pod port [options] CONTAINER [PRIVATE_PORT[/PROTO]]",
  summary: "List port mappings or a specific mapping for the container",
  maxArgs: 2,
  flags: {
    all: bool("a", "Display port information for all containers"),
    latest: bool("l", "Act on the latest container pod is aware of"),
  },
  /** Prints the mappings of one container (or, with `-a`, of every running one, after its ID). */
  async run(flags, args, g) {
    if (!flags.all && !flags.latest && args.length === 0) {
      throw new UsageError("you must supply a running container name or ID", "See 'pod port --help'");
    }
    if (flags.all && args.length > 0) {
      throw new UsageError("--all and a container name cannot be used together", "See 'pod port --help'");
    }
    const [store, { expandPorts }, { println }] = await Promise.all([
      import("../../store/containers.ts"),
      import("../../network/ports.ts"),
      import("../output.ts"),
    ]);
    let recs;
    if (flags.all || flags.latest) {
      recs = (await store.listContainers(g.root)).filter((r) => r.state.status === "running");
      if (flags.latest) {
        recs = recs.sort((a, b) => b.config.created.localeCompare(a.config.created)).slice(0, 1);
      }
    } else recs = [await store.readContainer(g.root, await store.lookupContainerId(g.root, args[0]))];
    const filter = flags.all ? undefined : args[flags.latest ? 0 : 1];
    for (const rec of recs) {
      const ports = expandPorts(rec.config.net?.ports ?? []);
      const addr = (p: { hostIp: string; host: number }) => `${p.hostIp || "0.0.0.0"}:${p.host}`;
      if (filter) {
        const [port, proto = "tcp"] = filter.split("/");
        const hits = ports.filter((p) => String(p.ctr) === port && p.proto === proto);
        if (!hits.length) throw new PodError(`failed to find published port "${port}/${proto}"`);
        for (const p of hits) println(addr(p));
        continue;
      }
      for (const p of ports) {
        println(`${flags.all ? rec.config.id.slice(0, 12) + "\t" : ""}${p.ctr}/${p.proto} -> ${addr(p)}`);
      }
    }
    return 0;
  },
});
