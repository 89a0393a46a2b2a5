/**
 * `pod events`: the store's event log (lib/store/events.ts, podman's `events_logger=file` shape), filtered,
 * as podman prints it; follows the log until interrupted (or until `--until` passes) unless `--stream=false`.
 * @module
 */

import { bool, defineCommand, str, strings } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { out } from "../output.ts";
import { eventHuman, eventTemplateItem } from "../views/events.ts";

export default defineCommand({
  name: "events",
  usage: "pod events [options]",
  summary: "Show pod events",
  maxArgs: 0,
  flags: {
    filter: strings("f", "filter output (container, event, image, label, pod, type, volume, network)"),
    format: str("format the output using a Go template (or json)"),
    noTrunc: bool("do not truncate the output", { default: true }),
    since: str("show all events created since timestamp"),
    stream: bool("stream events and do not exit when returning the last known event", { default: true }),
    until: str("show all events until timestamp"),
  },
  async run(flags, _args, g) {
    const { parseInputTime } = await import("../../format/time.ts");
    const { parseEventFilters, readEvents } = await import("../../store/events_query.ts");
    const time = (flag: string, v: string | undefined, since: boolean) => {
      if (v === undefined) return undefined;
      try {
        return parseInputTime(v, since).getTime();
      } catch {
        throw new UsageError(`failed to parse --${flag} "${v}": unable to interpret time value`);
      }
    };
    const filters = parseEventFilters(flags.filter);
    const since = time("since", flags.since, true);
    const until = time("until", flags.until, false);
    const format = flags.format ?? "";
    let render: ((items: unknown[]) => string) | undefined;
    if (format && format !== "json" && format !== "{{json .}}") {
      const { renderTemplateRows, TemplateError } = await import("../../format/template/mod.ts");
      const { PodError } = await import("../../errors.ts");
      const tmpl = format.replace(/^table\s*/, "");
      render = (items) => {
        try {
          return renderTemplateRows(tmpl, items, {});
        } catch (e) {
          if (e instanceof TemplateError) throw new PodError(e.message.split("\n")[0], { code: "USAGE" });
          throw e;
        }
      };
    }
    const abort = new AbortController();
    const stop = () => abort.abort();
    if (flags.stream) {
      for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, stop);
    }
    try {
      for await (
        const e of readEvents(g.root, {
          filters,
          since,
          until,
          stream: flags.stream,
          fromEnd: since === undefined,
          signal: abort.signal,
        })
      ) {
        if (format === "json" || format === "{{json .}}") out(JSON.stringify(e) + "\n");
        else if (render) out(render([eventTemplateItem(e)]));
        else out(eventHuman(e, !flags.noTrunc) + "\n");
      }
    } finally {
      if (flags.stream) {
        for (const s of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(s, stop);
      }
    }
    return 0;
  },
});
