/** `pod search`: find repositories of a registry (`/v2/_catalog`), or list a repository's tags. @module */

import { bool, defineCommand, int, str, strings } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { isDomain } from "../../oci/reference.ts";
import { printFormatted, printTable } from "../output.ts";
import { parseCreds } from "./pull.ts";

export default defineCommand({
  name: "search",
  usage: "pod search [options] REGISTRY/TERM",
  summary: "Search a registry for an image",
  minArgs: 1,
  maxArgs: 1,
  flags: {
    limit: int("Limit the number of results", { default: 25 }),
    format: str("Change the output format to JSON or a Go template"),
    listTags: bool("List the tags of the input registry/repository"),
    noTrunc: bool("Do not truncate the output"),
    tlsVerify: bool("Require HTTPS and verify certificates when contacting registries", { default: true }),
    authfile: str("Path of the authentication file"),
    certDir: str("Use certificates at the specified path to access the registry"),
    creds: str("Use [username[:password]] for accessing the registry"),
    filter: strings("f", "Filter output based on conditions provided", { ignored: true }),
  },
  async run(flags, args, _g, given) {
    const arg = args[0].replace(/^docker:\/\//, "");
    const slash = arg.indexOf("/");
    if (slash < 0 || !isDomain(arg.slice(0, slash))) {
      throw new UsageError(
        `"${arg}" names no registry`,
        "Search as REGISTRY/TERM, e.g. 127.0.0.1:5000/busybox",
      );
    }
    const registry = arg.slice(0, slash);
    const term = arg.slice(slash + 1);
    const limit = flags.limit;
    if (!Number.isInteger(limit) || limit <= 0) throw new UsageError("--limit must be a positive number");
    const { RegistryClient } = await import("../../registry/client.ts");
    const { listRepositories, listTags } = await import("../../registry/catalog.ts");
    const client = new RegistryClient(registry, {
      tlsVerify: given.has("tlsVerify") ? flags.tlsVerify : undefined,
      certDir: flags.certDir,
      credentials: parseCreds(flags.creds),
      authFile: flags.authfile,
    });
    const { format } = flags;
    if (flags.listTags) {
      const repo = term.replace(/:[\w][\w.-]*$/, "");
      if (!repo) throw new UsageError("--list-tags needs REGISTRY/REPOSITORY");
      const rows = (await listTags(client, repo, limit)).map((t) => ({
        Name: `${registry}/${repo}`,
        Tag: t,
      }));
      if (format) await printFormatted(format, rows);
      else printTable(["NAME", "TAG"], rows.map((r) => [r.Name, r.Tag]));
      return 0;
    }
    // the catalog is read in full (up to a bound) and matched here: it has no search of its own
    const all = await listRepositories(client, 10_000);
    const rows = all.filter((n) => n.includes(term)).slice(0, limit).map((n) => ({
      Index: registry,
      Name: `${registry}/${n}`,
      Description: "",
      Stars: 0,
      Official: "",
      Automated: "",
    }));
    if (format) await printFormatted(format, rows);
    else printTable(["NAME", "DESCRIPTION"], rows.map((r) => [r.Name, r.Description]));
    return 0;
  },
});
