/**
 * `top`: the processes of a running container, with podman's default columns
 * (USER PID PPID %CPU ELAPSED TTY TIME COMMAND) and its AIX-style descriptors.
 * @module
 */

import { PodError } from "../errors.ts";
import { containerPaths, type ContainerRecord, type IdMapEntry } from "../store/containers.ts";
import { containerProcesses } from "../ns/signals.ts";
import { parseGroup, parsePasswd, readInRoot } from "./user.ts";

const HZ = 100;

interface ProcInfo {
  pid: number;
  nspid: number;
  nsppid: number;
  uid: number;
  gid: number;
  comm: string;
  args: string;
  startTicks: number;
  cpuTicks: number;
  tty: number;
  state: string;
  nice: number;
  vsz: number;
  rss: number;
}

function toContainer(maps: IdMapEntry[] | undefined, id: number): number {
  if (!maps) return id;
  for (const m of maps) if (id >= m.hostId && id < m.hostId + m.size) return m.containerId + id - m.hostId;
  return 65534;
}

function readProc(pid: number, hostToNs: Map<number, number>): ProcInfo | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const f = stat.slice(close + 2).split(" ");
    const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, "m").exec(status)?.[1] ?? "";
    const nspids = field("NSpid").split(/\s+/).map(Number);
    const ppid = Number(f[1]);
    return {
      pid,
      nspid: nspids[nspids.length - 1] ?? pid,
      nsppid: hostToNs.get(ppid) ?? 0,
      uid: Number(field("Uid").split(/\s+/)[1] ?? 0),
      gid: Number(field("Gid").split(/\s+/)[1] ?? 0),
      comm,
      args: cmdline.split("\0").filter((x) => x).join(" ") || `[${comm}]`,
      startTicks: Number(f[19]),
      cpuTicks: Number(f[11]) + Number(f[12]),
      tty: Number(f[4]),
      state: f[0],
      nice: Number(f[16]),
      vsz: Math.floor(Number(f[20]) / 1024),
      rss: Number(f[21]) * 4,
    };
  } catch {
    return undefined;
  }
}

function goDuration(sec: number): string {
  if (sec < 1e-6) return "0s";
  const h = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), s = sec % 60;
  const ss = Number.isInteger(s) ? String(s) : s.toFixed(9).replace(/0+$/, "");
  return (h ? `${h}h` : "") + (h || m ? `${m}m` : "") + `${ss}s`;
}

const DESCRIPTORS: Record<string, string> = {
  user: "USER",
  ruser: "RUSER",
  group: "GROUP",
  rgroup: "RGROUP",
  pid: "PID",
  ppid: "PPID",
  pcpu: "%CPU",
  etime: "ELAPSED",
  tty: "TTY",
  time: "TIME",
  args: "COMMAND",
  comm: "COMMAND",
  nice: "NI",
  vsz: "VSZ",
  rss: "RSS",
  state: "STATE",
  uid: "UID",
  gid: "GID",
  huser: "HUSER",
  hpid: "HPID",
};

const ALIASES: Record<string, string> = {
  "%C": "pcpu",
  "%G": "group",
  "%P": "ppid",
  "%U": "user",
  "%a": "args",
  "%c": "comm",
  "%g": "rgroup",
  "%n": "nice",
  "%p": "pid",
  "%r": "pgid",
  "%t": "etime",
  "%u": "ruser",
  "%x": "time",
  "%y": "tty",
  "%z": "vsz",
}; // deno-fmt-ignore

/** Rows (header first) of `top` for a running container. */
export function topRows(root: string, rec: ContainerRecord, descriptors: string[]): string[][] {
  if (rec.state.status !== "running" && rec.state.status !== "paused") {
    throw new PodError(`top can only be used on running containers: container state improper`);
  }
  const desc = (descriptors.length ? descriptors.flatMap((d) => d.split(",")) : [
    "user",
    "pid",
    "ppid",
    "pcpu",
    "etime",
    "tty",
    "time",
    "args",
  ]).map((d) => ALIASES[d] ?? d);
  for (const d of desc) if (!DESCRIPTORS[d]) throw new PodError(`unknown descriptor: ${d}`);
  const pids = containerProcesses(rec.state.pid);
  const hostToNs = new Map<number, number>();
  const infos: ProcInfo[] = [];
  for (const p of pids) {
    const i = readProc(p, new Map());
    if (i) {
      hostToNs.set(p, i.nspid);
      infos.push(i);
    }
  }
  for (const i of infos) {
    const again = readProc(i.pid, hostToNs);
    if (again) i.nsppid = again.nsppid;
  }
  // an overlay container's root is mounted only in its own mount namespace: read through its init
  const rootfs = rec.config.storage ? `/proc/${rec.state.pid}/root` : containerPaths(root, rec.config.id).rootfs;
  const passwd = parsePasswd(readInRoot(rootfs, "/etc/passwd"));
  const groups = parseGroup(readInRoot(rootfs, "/etc/group"));
  const uptime = Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]);
  const uname = (u: number) => passwd.find((p) => p.uid === u)?.name ?? String(u);
  const gname = (g: number) => groups.find((p) => p.gid === g)?.name ?? String(g);
  const rows = [desc.map((d) => DESCRIPTORS[d])];
  infos.sort((a, b) => a.nspid - b.nspid);
  for (const i of infos) {
    const cu = toContainer(rec.config.userns.uidMap, i.uid);
    const cg = toContainer(rec.config.userns.gidMap, i.gid);
    const elapsed = Math.max(0, uptime - i.startTicks / HZ);
    rows.push(desc.map((d) => {
      switch (d) {
        case "user":
        case "ruser":
          return uname(cu);
        case "group":
        case "rgroup":
          return gname(cg);
        case "uid":
          return String(cu);
        case "gid":
          return String(cg);
        case "huser":
          return String(i.uid);
        case "pid":
          return String(i.nspid);
        case "hpid":
          return String(i.pid);
        case "ppid":
          return String(i.nsppid);
        case "pcpu":
          return (elapsed > 0 ? (i.cpuTicks / HZ / elapsed) * 100 : 0).toFixed(3);
        case "etime":
          return goDuration(Math.round(elapsed * 1e9) / 1e9);
        case "tty":
          return i.tty ? `pts/${i.tty & 0xff}` : "?";
        case "time":
          return goDuration(Math.floor(i.cpuTicks / HZ));
        case "args":
          return i.args;
        case "comm":
          return i.comm;
        case "nice":
          return String(i.nice);
        case "vsz":
          return String(i.vsz);
        case "rss":
          return String(i.rss);
        case "state":
          return i.state;
        default:
          return "";
      }
    }));
  }
  return rows;
}
