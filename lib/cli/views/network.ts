/**
 * Networks as podman prints them: `network ls`'s table, and the objects `--format` templates see (Go's
 * field names of podman's `types.Network`: `.Name`, `.ID`, `.Subnets`, `.DNSEnabled`…; `ls` has `.Labels`
 * as `k=v,…` text and a 12-character `.ID` unless `--no-trunc`).
 * @module
 */

import type { NetworkConfig } from "../../network/config.ts";
import { goMap } from "../../format/gofmt.ts";

/** `.Subnets[i]` in a template. */
export interface SubnetView {
  /** `10.89.0.0/24`. */
  Subnet: string;
  /** The gateway, or nil. */
  Gateway: string | null;
  /** `{StartIP EndIP}`, or nil. */
  LeaseRange: { StartIP: string; EndIP: string } | null;
}

/** What a template sees for one network. */
export function networkTemplateView(
  n: NetworkConfig,
  ls?: { noTrunc: boolean },
): Record<string, unknown> {
  const map = (m: Record<string, string> | undefined) => goMap({ ...(m ?? {}) }, "");
  const labels = n.labels ?? {};
  return {
    Name: n.name,
    ID: ls && !ls.noTrunc ? n.id.slice(0, 12) : n.id,
    Driver: n.driver,
    NetworkInterface: n.network_interface ?? "",
    Created: new Date(n.created),
    Subnets: (n.subnets ?? []).map((s): SubnetView => ({
      Subnet: s.subnet,
      Gateway: s.gateway ?? null,
      LeaseRange: s.lease_range
        ? { StartIP: s.lease_range.start_ip ?? "", EndIP: s.lease_range.end_ip ?? "" }
        : null,
    })),
    IPv6Enabled: n.ipv6_enabled,
    Internal: n.internal,
    DNSEnabled: n.dns_enabled,
    Labels: ls ? Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(",") : map(n.labels),
    Options: map(n.options),
    IPAMOptions: map(n.ipam_options),
  };
}

/** Header texts of `network ls --format 'table …'`. */
export const NETWORK_HEADERS: Record<string, string> = { ID: "NETWORK ID" };

/** `network ls`'s default table rows: NETWORK ID, NAME, DRIVER. */
export function networkRows(list: NetworkConfig[], noTrunc: boolean): string[][] {
  return list.map((n) => [noTrunc ? n.id : n.id.slice(0, 12), n.name, n.driver]);
}

/** podman's JSON of networks (`network inspect`): an array, five-space indent like its network files. */
export function networksJson(list: NetworkConfig[]): string {
  return JSON.stringify(list, null, 5) + "\n";
}
