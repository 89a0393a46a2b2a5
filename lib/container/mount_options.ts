/**
 * Parsing of `-v/--volume`, `--mount` and `--tmpfs` the way podman reads them. Pure: no I/O; named and
 * anonymous volumes are resolved to host paths later ({@link MountRequest} keeps the volume name).
 * @module
 */

import { PodError } from "../errors.ts";

/** A mount as parsed from the command line. */
export interface MountRequest {
  /** `bind` (host path), `volume` (named or anonymous) or `tmpfs`. */
  type: "bind" | "volume" | "tmpfs";
  /** Host path (bind). */
  source?: string;
  /** Volume name (named volume); absent with `anonymous`. */
  name?: string;
  /** `-v /dst`: a new anonymous volume. */
  anonymous?: boolean;
  /** Absolute path in the container. */
  destination: string;
  /** Read-only. */
  readonly: boolean;
  /** Propagation (`rprivate`, `rslave`, …). */
  propagation?: "rprivate" | "private" | "rslave" | "slave" | "rshared" | "shared";
  /** rbind (default) or bind. */
  recursive?: boolean;
  /** tmpfs mount data (`size=…,mode=…`). */
  data?: string;
  /** The options as written. */
  options: string[];
}

const PROPAGATIONS = new Set(["rprivate", "private", "rslave", "slave", "rshared", "shared"]);

function checkDest(dst: string): void {
  if (!dst.startsWith("/")) throw new PodError(`invalid container path "${dst}", must be an absolute path`);
}

/** A container path made canonical: `.`, `..` and repeated slashes resolved lexically, always absolute. */
export function cleanPath(p: string): string {
  const parts: string[] = [];
  for (const c of p.split("/")) {
    if (!c || c === ".") continue;
    if (c === "..") parts.pop();
    else parts.push(c);
  }
  return "/" + parts.join("/");
}

/** Applies `-v` style options (ro, rw, z, Z, propagation, bind/rbind, U, …) to `m`. Throws on unknown ones. */
function applyVolumeOptions(m: MountRequest, opts: string[], spec: string): void {
  let rw = 0, prop = 0, bind = 0;
  for (const o of opts) {
    if (o === "ro" || o === "rw") {
      if (++rw > 1) {
        throw new PodError(`cannot pass 'ro' and 'rw' options more than once: incorrect volume format`);
      }
      m.readonly = o === "ro";
    } else if (PROPAGATIONS.has(o)) {
      if (++prop > 1) {
        throw new PodError(`cannot pass multiple propagation options to one volume: incorrect volume format`);
      }
      m.propagation = o as MountRequest["propagation"];
    } else if (o === "bind" || o === "rbind") {
      if (++bind > 1) {
        throw new PodError(`cannot pass bind and rbind options more than once: incorrect volume format`);
      }
      m.recursive = o === "rbind";
    } else if (
      o === "z" || o === "Z" || o === "U" || o === "exec" || o === "noexec" || o === "dev" ||
      o === "nodev" || o === "suid" || o === "nosuid" || o === "copy" || o === "nocopy" || o === "idmap"
    ) {
      // SELinux relabel, chown, and mount flags pod does not act on: accepted like podman does (nocopy: noCopy)
    } else if (o === "O") {
      throw new PodError(`overlay volumes (:O) are not supported by pod: ${spec}`);
    } else {
      throw new PodError(`invalid option type "${o}"`);
    }
  }
}

/** Parses one `-v/--volume` value: `SRC:DST[:opts]` or `/DST` (anonymous volume). */
export function parseVolume(spec: string): MountRequest {
  if (spec === "") throw new PodError(`volume specification cannot be empty: incorrect volume format`);
  const parts = spec.split(":");
  if (parts.length > 3) {
    throw new PodError(`incorrect volume format "${spec}", should be [host-dir:]ctr-dir[:option]`);
  }
  if (parts.length === 1) {
    checkDest(parts[0]);
    return {
      type: "volume",
      anonymous: true,
      destination: cleanPath(parts[0]),
      readonly: false,
      options: [],
    };
  }
  let [src, dst, optStr] = parts;
  if (parts.length === 2 && !dst.startsWith("/") && src.startsWith("/")) {
    // `/dst:ro` form: an anonymous volume with options
    if (/^[a-zA-Z,]+$/.test(dst)) {
      optStr = dst;
      dst = src;
      src = "";
    }
  }
  checkDest(dst);
  const opts = optStr ? optStr.split(",").filter((o) => o) : [];
  const m: MountRequest = src === ""
    ? { type: "volume", anonymous: true, destination: cleanPath(dst), readonly: false, options: opts }
    : src.startsWith("/") || src.startsWith(".")
    ? { type: "bind", source: src, destination: cleanPath(dst), readonly: false, options: opts }
    : { type: "volume", name: src, destination: cleanPath(dst), readonly: false, options: opts };
  if (m.type === "bind" && src.startsWith(".")) {
    throw new PodError(`invalid host path "${src}", must be an absolute path`);
  }
  if (m.type === "volume" && m.name !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(m.name)) {
    throw new PodError(`invalid volume name "${m.name}": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
  }
  applyVolumeOptions(m, opts, spec);
  return m;
}

function boolValue(key: string, v: string | undefined): boolean {
  if (v === undefined || v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new PodError(`invalid value "${v}" for ${key}: must be true or false`);
}

/**
 * `--mount type=devpts,destination=…` (distrobox passes `destination=/dev/pts`). pod has no separate devpts
 * mount type: a container that is not privileged already gets its own devpts instance at /dev/pts, and a
 * privileged one the host's /dev (with its /dev/pts), so this becomes a plain bind of the host's /dev/pts.
 */
function devptsMount(kv: [string, string | undefined][], fields: string[]): MountRequest {
  let destination = "";
  for (const [k, v] of kv) {
    if (k === "destination" || k === "dst" || k === "target") {
      if (!v) throw new PodError(`option "${k}" requires a value`);
      checkDest(v);
      destination = cleanPath(v);
    } else if (!/^(uid|gid|mode|ptmxmode|max|newinstance|ro|rw|readonly)$/.test(k)) {
      throw new PodError(`unknown mount option "${k}": invalid mount option`);
    }
  }
  if (!destination) throw new PodError(`must set target or destination: invalid mount option`);
  return {
    type: "bind",
    source: "/dev/pts",
    destination,
    readonly: false,
    recursive: false,
    options: fields,
  };
}

/** Parses one `--mount` value: `type=bind|volume|tmpfs,source=…,destination=…,ro,…`. */
export function parseMount(spec: string): MountRequest {
  const fields = spec.split(",").filter((f) => f);
  let type = "";
  const kv: [string, string | undefined][] = [];
  for (const f of fields) {
    const eq = f.indexOf("=");
    const k = eq < 0 ? f : f.slice(0, eq);
    const v = eq < 0 ? undefined : f.slice(eq + 1);
    if (k === "type") type = v ?? "";
    else kv.push([k, v]);
  }
  if (type === "") type = "volume";
  if (type === "devpts") return devptsMount(kv, fields);
  if (type !== "bind" && type !== "volume" && type !== "tmpfs") {
    throw new PodError(`invalid filesystem type "${type}"`);
  }
  const m: MountRequest = { type, destination: "", readonly: false, options: fields };
  const tmpfsData: string[] = [];
  for (const [k, v] of kv) {
    switch (k) {
      case "source":
      case "src":
        if (type === "tmpfs") throw new PodError(`"${k}" option is not supported with tmpfs mounts`);
        if (!v) throw new PodError(`option "${k}" requires a value`);
        if (type === "volume") m.name = v;
        else m.source = v;
        break;
      case "destination":
      case "dst":
      case "target":
        if (!v) throw new PodError(`option "${k}" requires a value`);
        checkDest(v);
        m.destination = cleanPath(v);
        break;
      case "ro":
      case "readonly":
        m.readonly = boolValue(k, v);
        break;
      case "rw":
        m.readonly = !boolValue(k, v);
        break;
      case "bind-propagation":
        if (!v || !PROPAGATIONS.has(v)) throw new PodError(`invalid value "${v}" for bind-propagation`);
        m.propagation = v as MountRequest["propagation"];
        break;
      case "bind-nonrecursive":
        m.recursive = !boolValue(k, v);
        break;
      case "tmpfs-size":
        if (type !== "tmpfs") throw new PodError(`"${k}" option is only supported with tmpfs mounts`);
        if (!v) throw new PodError(`option "${k}" requires a value`);
        tmpfsData.push(`size=${v}`);
        break;
      case "tmpfs-mode":
        if (type !== "tmpfs") throw new PodError(`"${k}" option is only supported with tmpfs mounts`);
        if (!v || !/^[0-7]+$/.test(v)) throw new PodError(`invalid value "${v}" for tmpfs-mode`);
        tmpfsData.push(`mode=${v}`);
        break;
      case "relabel":
      case "z":
      case "Z":
      case "U":
      case "chown":
      case "consistency":
      case "volume-nocopy":
      case "notmpcopyup":
      case "tmpcopyup":
      case "exec":
      case "noexec":
      case "dev":
      case "nodev":
      case "suid":
      case "nosuid":
      case "idmap":
      case "volume-opt":
        break;
      default:
        throw new PodError(`unknown mount option "${k}": invalid mount option`);
    }
  }
  if (!m.destination) throw new PodError(`must set target or destination: invalid mount option`);
  if (type === "bind") {
    if (!m.source) throw new PodError(`must set source: invalid mount option`);
    if (!m.source.startsWith("/")) {
      throw new PodError(`invalid host path "${m.source}", must be an absolute path`);
    }
  }
  if (type === "volume" && !m.name) m.anonymous = true;
  if (type === "tmpfs") m.data = tmpfsData.join(",");
  return m;
}

/** Parses one `--tmpfs` value: `/dst[:opts]` (opts: `size=…,mode=…,ro,…`). */
export function parseTmpfs(spec: string): MountRequest {
  const colon = spec.indexOf(":");
  const dst = colon < 0 ? spec : spec.slice(0, colon);
  const opts = colon < 0 ? [] : spec.slice(colon + 1).split(",").filter((o) => o);
  checkDest(dst);
  const m: MountRequest = { type: "tmpfs", destination: cleanPath(dst), readonly: false, options: opts };
  const data: string[] = [];
  for (const o of opts) {
    if (o === "ro") m.readonly = true;
    else if (o === "rw") m.readonly = false;
    else if (/^(size|mode|nr_inodes|nr_blocks|uid|gid)=/.test(o)) data.push(o);
    else if (/^(no)?(exec|dev|suid|atime|diratime)$|^(strict|rel)atime$|^tmpcopyup$|^notmpcopyup$/.test(o)) {
      // mount flags pod applies defaults for
    } else throw new PodError(`invalid option type "${o}"`);
  }
  m.data = data.join(",");
  return m;
}

/**
 * Parses every mount flag and checks that no destination is used twice
 * (podman: `duplicate mount destination`).
 */
export function parseMountFlags(volumes: string[], mounts: string[], tmpfs: string[]): MountRequest[] {
  return checkMountRequests([
    ...volumes.map(parseVolume),
    ...mounts.map(parseMount),
    ...tmpfs.map(parseTmpfs),
  ]);
}

/**
 * Checks mounts given as data (the library API's): absolute destinations (cleaned), absolute bind sources,
 * valid volume names, no destination twice. Returns the cleaned copies.
 */
export function checkMountRequests(reqs: MountRequest[]): MountRequest[] {
  const seen = new Set<string>();
  return reqs.map((r) => {
    checkDest(r.destination);
    const m: MountRequest = { ...r, destination: cleanPath(r.destination), options: r.options ?? [] };
    if (m.type === "bind" && !m.source?.startsWith("/")) {
      throw new PodError(`invalid host path "${m.source ?? ""}", must be an absolute path`, {
        code: "USAGE",
      });
    }
    if (m.type === "volume" && m.name === undefined) m.anonymous = true;
    if (m.type === "volume" && m.name !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(m.name)) {
      throw new PodError(`invalid volume name "${m.name}": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`, {
        code: "USAGE",
      });
    }
    if (seen.has(m.destination)) {
      throw new PodError(`${m.destination}: duplicate mount destination`, { code: "USAGE" });
    }
    seen.add(m.destination);
    return m;
  });
}

/** `-v …:nocopy` / `--mount …,volume-nocopy`: no copy-up of the image's content into the volume. */
export function noCopy(m: MountRequest): boolean {
  return m.options.some((o) => o === "nocopy" || o === "volume-nocopy" || o.startsWith("volume-nocopy="));
}
