/**
 * `volume ls --filter` and `volume prune --filter` as podman reads them. Pure: a filter is a predicate over
 * a {@link VolumeFacts}.
 * @module
 */

import { UsageError } from "../errors.ts";
import { parseInputTime } from "../format/time.ts";

/** What the filters look at. */
export interface VolumeFacts {
  /** Name. */
  name: string;
  /** Driver (`local`). */
  driver: string;
  /** Labels. */
  labels: Record<string, string>;
  /** `-o` options. */
  options: Record<string, string>;
  /** Creation time. */
  created: Date;
  /** Number of containers using it. */
  users: number;
}

/** A parsed filter set: true when every filter matches. */
export type VolumeFilter = (v: VolumeFacts) => boolean;

/** `k[=v]` label matcher (`v` may be absent: the key alone). */
function labelMatcher(value: string): (l: Record<string, string>) => boolean {
  const i = value.indexOf("=");
  const k = i < 0 ? value : value.slice(0, i);
  const v = i < 0 ? undefined : value.slice(i + 1);
  return (l) => Object.hasOwn(l, k) && (v === undefined || l[k] === v);
}

/** A boolean filter value as podman accepts it. */
function boolValue(key: string, value: string): boolean {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new UsageError(`${value} is not a valid value for the "${key}" filter - must be true or false`);
}

/** A name pattern: podman matches names by regular expression. */
function nameMatcher(value: string): (name: string) => boolean {
  let re: RegExp;
  try {
    re = new RegExp(value);
  } catch {
    throw new UsageError(`invalid filter "name=${value}": not a valid regular expression`);
  }
  return (n) => n === value || re.test(n);
}

const LS_KEYS = ["name", "label", "label!", "driver", "dangling", "opt", "scope", "until", "after", "before"];
const PRUNE_KEYS = ["label", "label!", "until"];

/**
 * Parses `--filter` values: `ls` accepts name, label, label!, driver, dangling, opt, scope, until; `prune`
 * label, label! and until. Values of the same key are ORed (as podman), different keys ANDed.
 */
export function parseVolumeFilters(values: string[], kind: "ls" | "prune", now = Date.now()): VolumeFilter {
  const byKey = new Map<string, VolumeFilter[]>();
  const allowed = kind === "ls" ? LS_KEYS : PRUNE_KEYS;
  for (const f of values) {
    const eq = f.indexOf("=");
    if (eq <= 0) throw new UsageError(`invalid filter "${f}": use key=value`);
    const key = f.slice(0, eq);
    const value = f.slice(eq + 1);
    if (!allowed.includes(key)) {
      throw new UsageError(`"${key}" is an invalid volume filter`);
    }
    let fn: VolumeFilter;
    switch (key) {
      case "name": {
        const m = nameMatcher(value);
        fn = (v) => m(v.name);
        break;
      }
      case "label": {
        const m = labelMatcher(value);
        fn = (v) => m(v.labels);
        break;
      }
      case "label!": {
        const m = labelMatcher(value);
        fn = (v) => !m(v.labels);
        break;
      }
      case "driver":
        fn = (v) => v.driver === value;
        break;
      case "scope":
        fn = () => value === "local";
        break;
      case "opt": {
        const m = labelMatcher(value);
        fn = (v) => m(v.options);
        break;
      }
      case "dangling": {
        const want = boolValue(key, value);
        fn = (v) => (v.users === 0) === want;
        break;
      }
      default: { // until, after, before
        let t: number;
        try {
          t = parseInputTime(value, true, now).getTime(); // a duration means "that long ago"
        } catch {
          throw new UsageError(`invalid filter "${f}": unable to interpret time value`);
        }
        fn = key === "after" ? (v) => v.created.getTime() > t : (v) => v.created.getTime() < t;
      }
    }
    byKey.set(key, [...(byKey.get(key) ?? []), fn]);
  }
  const groups = [...byKey.entries()];
  return (v) =>
    groups.every(([key, fns]) => (key === "label!" ? fns.every((f) => f(v)) : fns.some((f) => f(v))));
}
