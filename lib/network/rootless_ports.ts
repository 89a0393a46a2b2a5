/**
 * net2: published ports of rootless bridge containers. slirp4netns of the store's rootless netns
 * (rootless_netns.ts) forwards each host port to the same port on its tap0 (10.0.2.100), where netavark's
 * DNAT rule sends it on to the container; the forward ids go into the container's teardown.
 * @module
 */

import { PodError } from "../errors.ts";
import type { RootlessNetns } from "./rootless_netns.ts";
import { slirpApi } from "./slirp.ts";

/**
 * Forwards host ports into the rootless netns through slirp4netns (to the same port on its tap0, where
 * netavark's DNAT rule takes over); returns the forward ids (removed by the release in rootless_netns.ts).
 */
export async function addRootlessForwards(
  st: RootlessNetns,
  ports: { proto: string; hostIp: string; host: number }[],
): Promise<number[]> {
  const ids: number[] = [];
  for (const p of ports) {
    if (p.proto === "sctp") throw new PodError("rootless bridge networks cannot forward sctp ports");
    const reply = await slirpApi(st.apiSocket, {
      execute: "add_hostfwd",
      arguments: { proto: p.proto, host_addr: p.hostIp || "0.0.0.0", host_port: p.host, guest_port: p.host },
    });
    if (reply.error || typeof (reply.return as { id?: number } | undefined)?.id !== "number") {
      await removeForwards(st, ids);
      const desc = String(reply.error?.desc ?? JSON.stringify(reply));
      throw new PodError(
        `cannot listen on the ${p.proto.toUpperCase()} port ${p.host} (${
          p.hostIp || "0.0.0.0"
        }:${p.host}): ` +
          desc.replace(/^bad request: add_hostfwd: /, ""),
      );
    }
    ids.push((reply.return as { id: number }).id);
  }
  return ids;
}

async function removeForwards(st: RootlessNetns, ids: number[]): Promise<void> {
  for (const id of ids) {
    await slirpApi(st.apiSocket, { execute: "remove_hostfwd", arguments: { id } }).catch(() => {});
  }
}
