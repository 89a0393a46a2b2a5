/**
 * `RUN --mount=…` as buildah reads it: comma-separated `key=value` options (`type=` bind (default), cache,
 * tmpfs or secret). Pure: parsing and checks only; {@link RunMountError}s are reported at the RUN's line.
 * @module
 */

import { cleanPath } from "../container/mount_options.ts";

/** A parsed `RUN --mount`. */
export interface RunMount {
  /** Mount type. */
  type: "bind" | "cache" | "tmpfs" | "secret";
  /** Absolute path in the RUN container (secret: `/run/secrets/<id>` unless given). */
  target: string;
  /** bind: path in the context (or in `from`); default its root. */
  source?: string;
  /** bind: a stage (name or number) or an image to read instead of the context. */
  from?: string;
  /** Read-only (bind and secret: default true; cache: default false). */
  readonly: boolean;
  /** cache: its id (default: the target); secret: the `--secret` id. */
  id?: string;
  /** cache: `shared` (default), `locked` or `private` (pod: as `locked`, one writer at a time). */
  sharing?: "shared" | "locked" | "private";
  /** cache / secret: mode of the directory / file. */
  mode?: number;
  /** cache / secret: owner in the container. */
  uid?: number;
  /** cache / secret: group in the container. */
  gid?: number;
  /** tmpfs: size in bytes. */
  size?: number;
  /** secret: a missing secret is an error (default: the mount is left out). */
  required?: boolean;
}

/** An invalid `--mount` (message without the line; the caller names it). */
export class RunMountError extends Error {}

const KEYS: Record<RunMount["type"], string[]> = {
  bind: [
    "source",
    "src",
    "from",
    "ro",
    "readonly",
    "rw",
    "readwrite",
    "bind-propagation",
    "relabel",
    "z",
    "Z",
  ],
  cache: [
    "id",
    "sharing",
    "mode",
    "uid",
    "gid",
    "ro",
    "readonly",
    "rw",
    "readwrite",
    "relabel",
    "z",
    "Z",
  ],
  tmpfs: ["size", "tmpfs-size", "mode", "tmpfs-mode"],
  secret: ["id", "mode", "uid", "gid", "required"],
};

function boolValue(key: string, v: string | undefined): boolean {
  if (v === undefined || v === "true") return true;
  if (v === "false") return false;
  throw new RunMountError(`invalid value "${v}" for ${key}: want true or false`);
}

function intValue(key: string, v: string | undefined, base = 10): number {
  const ok = base === 8 ? /^0?[0-7]{1,4}$/ : /^\d+$/;
  if (v === undefined || !ok.test(v)) {
    throw new RunMountError(
      `invalid value "${v ?? ""}" for ${key}: want ${base === 8 ? "octal" : "a number"}`,
    );
  }
  return parseInt(v, base);
}

/** Sizes as `--tmpfs size=`: bytes, or with k/m/g. */
function sizeValue(v: string | undefined): number {
  const m = /^(\d+)([kmg]?)b?$/i.exec(v ?? "");
  if (!m) throw new RunMountError(`invalid tmpfs size "${v ?? ""}"`);
  return Number(m[1]) * ({ "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()] ?? 1);
}

/** Parses one `--mount` value (variables already expanded). */
export function parseRunMount(spec: string): RunMount {
  const opts: [string, string | undefined][] = spec.split(",").filter((s) => s !== "").map((o) => {
    const i = o.indexOf("=");
    return i < 0 ? [o, undefined] : [o.slice(0, i), o.slice(i + 1)];
  });
  let type: RunMount["type"] = "bind";
  for (const [k, v] of opts) {
    if (k !== "type") continue;
    if (v !== "bind" && v !== "cache" && v !== "tmpfs" && v !== "secret") {
      throw new RunMountError(`unsupported mount type "${v ?? ""}" (bind, cache, tmpfs, secret)`);
    }
    type = v;
  }
  const m: RunMount = { type, target: "", readonly: type === "bind" || type === "secret" };
  let target: string | undefined;
  for (const [k, v] of opts) {
    if (k === "type") continue;
    if (k === "target" || k === "dst" || k === "destination") {
      if (!v) throw new RunMountError(`${k} needs a path`);
      target = v;
      continue;
    }
    if (!KEYS[type].includes(k)) throw new RunMountError(`unknown option "${k}" for a ${type} mount`);
    switch (k) {
      case "source":
      case "src":
        m.source = v ?? "";
        break;
      case "from":
        if (!v) throw new RunMountError("from needs a stage or an image");
        m.from = v;
        break;
      case "ro":
      case "readonly":
        m.readonly = boolValue(k, v);
        break;
      case "rw":
      case "readwrite":
        m.readonly = !boolValue(k, v);
        break;
      case "id":
        if (!v) throw new RunMountError("id needs a value");
        m.id = v;
        break;
      case "sharing":
        if (v !== "shared" && v !== "locked" && v !== "private") {
          throw new RunMountError(`invalid sharing "${v ?? ""}" (shared, locked, private)`);
        }
        m.sharing = v;
        break;
      case "mode":
      case "tmpfs-mode":
        m.mode = intValue(k, v, 8);
        break;
      case "uid":
        m.uid = intValue(k, v);
        break;
      case "gid":
        m.gid = intValue(k, v);
        break;
      case "size":
      case "tmpfs-size":
        m.size = sizeValue(v);
        break;
      case "required":
        m.required = boolValue(k, v);
        break;
      default: // SELinux relabeling and propagation: nothing to do without SELinux / for a RUN's mount
        break;
    }
  }
  if (type === "secret") {
    if (!m.id && target) {
      m.id = target.replace(/\/+$/, "").slice(target.replace(/\/+$/, "").lastIndexOf("/") + 1);
    }
    if (!m.id) throw new RunMountError("a secret mount needs an id");
    target ??= `/run/secrets/${m.id}`;
  }
  if (!target) throw new RunMountError(`a ${type} mount needs a target`);
  m.target = cleanPath(target);
  if (m.target === "/") throw new RunMountError("the target of a mount cannot be /");
  if (type === "cache" && !m.id) m.id = m.target;
  return m;
}
