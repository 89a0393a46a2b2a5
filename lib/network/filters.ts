/**
 * `network ls --filter` and `network prune --filter` as podman reads them: `name` and `id` (regular
 * expressions), `driver`, `label`/`label!`, `until`, `dangling` (ls only). Values of one key are ORed, keys
 * ANDed, except `label` whose values must all match (podman's `MatchLabelFilters`). Pure.
 * @module
 */

import { UsageError } from "../errors.ts";
import { parseInputTime } from "../format/time.ts";
import { DEFAULT_NETWORK_NAME, type NetworkConfig } from "./config.ts";

/** What the filters look at: a network and how many containers use it. */
export interface NetworkFacts {
  /** The network. */
  config: NetworkConfig;
  /** Number of containers attached to it. */
  containers: number;
}

/** A parsed filter set: true when the network passes every filter. */
export type NetworkFilter = (n: NetworkFacts) => boolean;

function regex(key: string, value: string): RegExp {
  try {
    return new RegExp(value);
  } catch {
    throw new UsageError(`invalid filter "${key}=${value}": not a valid regular expression`);
  }
}

/** `k[=v]` against labels. */
function labelMatch(value: string, labels: Record<string, string>): boolean {
  const i = value.indexOf("=");
  const k = i < 0 ? value : value.slice(0, i);
  return Object.hasOwn(labels, k) && (i < 0 || labels[k] === value.slice(i + 1));
}

/** No container uses it; the default network never counts as dangling (podman). */
export function isDangling(n: NetworkFacts): boolean {
  return n.containers === 0 && n.config.name !== DEFAULT_NETWORK_NAME;
}

const LS_KEYS = ["name", "id", "driver", "label", "label!", "until", "dangling"];
const PRUNE_KEYS = ["label", "label!", "until"];

/** Parses `--filter key=value` values of `network ls` (`kind` "ls") or `network prune`. */
export function parseNetworkFilters(values: string[], kind: "ls" | "prune", now = Date.now()): NetworkFilter {
  const byKey = new Map<string, string[]>();
  for (const f of values) {
    const eq = f.indexOf("=");
    const key = (eq < 0 ? f : f.slice(0, eq)).toLowerCase();
    if (eq <= 0 || !(kind === "ls" ? LS_KEYS : PRUNE_KEYS).includes(key)) {
      throw new UsageError(`invalid filter "${eq < 0 ? f : f.slice(0, eq)}"`);
    }
    byKey.set(key, [...(byKey.get(key) ?? []), f.slice(eq + 1)]);
  }
  const tests: NetworkFilter[] = [];
  for (const [key, vals] of byKey) {
    switch (key) {
      case "name":
      case "id": {
        const res = vals.map((v) => regex(key, v));
        const field = key === "name" ? "name" : "id";
        tests.push((n) => res.some((r) => r.test(n.config[field])));
        break;
      }
      case "driver":
        tests.push((n) => vals.includes(n.config.driver));
        break;
      case "label":
        tests.push((n) => vals.every((v) => labelMatch(v, n.config.labels ?? {})));
        break;
      case "label!":
        tests.push((n) => vals.every((v) => !labelMatch(v, n.config.labels ?? {})));
        break;
      case "until": {
        const ts = vals.map((v) => {
          try {
            return parseInputTime(v, true, now).getTime();
          } catch {
            throw new UsageError(`invalid filter "until=${v}": unable to interpret time value`);
          }
        });
        tests.push((n) => ts.some((t) => new Date(n.config.created).getTime() < t));
        break;
      }
      case "dangling": {
        const want = vals.map((v) => {
          if (["1", "t", "T", "true", "TRUE", "True"].includes(v)) return true;
          if (["0", "f", "F", "false", "FALSE", "False"].includes(v)) return false;
          throw new UsageError(`invalid dangling filter value "${v}"`);
        });
        tests.push((n) => want.some((w) => isDangling(n) === w));
        break;
      }
    }
  }
  return (n) => tests.every((t) => t(n));
}
