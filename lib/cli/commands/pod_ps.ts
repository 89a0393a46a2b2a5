/** `pod pod ps` (`ls`): list pods with podman's columns, filters and `--format`. @module */

import { UsageError } from "../../errors.ts";
import { bool, defineCommand, str, strings } from "../flags.ts";
import { printFormatted, printJson, println, printTable } from "../output.ts";
import { POD_HEADERS, podJson, podRow, type PodView } from "../views/pod.ts";

/** Every pod with its containers and status (`--exit-policy stop` applied), newest first. */
export async function podViews(root: string): Promise<PodView[]> {
  const { listPods } = await import("../../store/pods.ts");
  const { applyExitPolicy, podStatus } = await import("../../container/pod/pods.ts");
  const out: PodView[] = [];
  for (const pod of await listPods(root)) {
    const containers = await applyExitPolicy(root, pod);
    out.push({ pod, containers, status: podStatus(containers) });
  }
  return out;
}

function matches(v: PodView, key: string, value: string): boolean {
  const ctrs = v.containers;
  switch (key) {
    case "id":
      return v.pod.id.startsWith(value);
    case "name":
      try {
        return new RegExp(value).test(v.pod.name);
      } catch {
        return v.pod.name.includes(value);
      }
    case "label": {
      const eq = value.indexOf("=");
      return eq < 0 ? value in v.pod.labels : v.pod.labels[value.slice(0, eq)] === value.slice(eq + 1);
    }
    case "status":
      return v.status.toLowerCase() === value.toLowerCase();
    case "ctr-names":
      return ctrs.some((c) => c.config.name === value);
    case "ctr-ids":
      return ctrs.some((c) => c.config.id.startsWith(value));
    case "ctr-status":
      return ctrs.some((c) => c.state.status === value);
    case "ctr-number":
      return ctrs.length === Number(value);
    default:
      throw new UsageError(`invalid filter "${key}"`);
  }
}

export default defineCommand({
  name: "ps",
  aliases: ["ls", "list"],
  usage: "pod pod ps [options]",
  summary: "List pods",
  maxArgs: 0,
  flags: {
    ctrIds: bool("Display the container UUIDs. If no-trunc is not set they will be truncated"),
    ctrNames: bool("Display the container names"),
    ctrStatus: bool("Display the container status"),
    filter: strings("f", "Filter output based on conditions given"),
    format: str("Pretty-print pods to JSON or using a Go template"),
    latest: bool("l", "Act on the latest pod pod is aware of"),
    noTrunc: bool("Do not truncate pod and container IDs"),
    noheading: bool("Do not print headers"),
    quiet: bool("q", "Print the numeric IDs of the pods only"),
    sort: str("Sort output by created, id, name, number or status", { default: "created" }),
    namespace: bool("Display namespace information of the pod", { ignored: true }),
  },
  async run(flags, _args, g) {
    let views = await podViews(g.root);
    const groups = new Map<string, string[]>();
    for (const f of flags.filter) {
      const eq = f.indexOf("=");
      if (eq < 0) throw new UsageError(`invalid filter "${f}": bad format, expected key=value`);
      groups.set(f.slice(0, eq), [...(groups.get(f.slice(0, eq)) ?? []), f.slice(eq + 1)]);
    }
    for (const [k, vals] of groups) views = views.filter((v) => vals.some((x) => matches(v, k, x)));
    if (flags.latest) views = views.slice(0, 1);
    const sortKey: Record<string, (v: PodView) => string | number> = {
      created: (v) => -Date.parse(v.pod.created),
      id: (v) => v.pod.id,
      name: (v) => v.pod.name,
      number: (v) => v.containers.length,
      status: (v) => v.status,
    };
    const key = sortKey[flags.sort];
    if (!key) {
      throw new UsageError(`invalid option for --sort, options are: created, id, name, number, or status`);
    }
    views.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    if (flags.quiet) {
      println(...views.map((v) => (flags.noTrunc ? v.pod.id : v.pod.id.slice(0, 12))));
      return 0;
    }
    const format = flags.format ?? "";
    if (format === "json" || format === "{{json .}}") {
      printJson(views.map(podJson));
      return 0;
    }
    const now = Date.now();
    const rows = views.map((v) => podRow(v, flags.noTrunc, now));
    if (format) {
      await printFormatted(flags.noheading ? format.replace(/^table\s*/, "") : format, rows, POD_HEADERS);
      return 0;
    }
    const cols = ["ID", "Name", "Status", "Created", "InfraID"];
    if (flags.ctrIds) cols.push("ContainerIds");
    if (flags.ctrNames) cols.push("ContainerNames");
    if (flags.ctrStatus) cols.push("ContainerStatuses");
    if (!flags.ctrIds && !flags.ctrNames && !flags.ctrStatus) cols.push("NumberOfContainers");
    printTable(
      flags.noheading ? undefined : cols.map((c) => POD_HEADERS[c]),
      rows.map((r) => cols.map((c) => String(r[c] ?? ""))),
    );
    return 0;
  },
});
