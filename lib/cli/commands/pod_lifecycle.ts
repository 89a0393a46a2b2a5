/** `pod pod start|stop|restart|kill|pause|unpause`: every container of the pods named. @module */

import { bool, defineCommand, int, str } from "../flags.ts";
import { forEachPod } from "./pod_targets.ts";

const targetFlags = {
  all: bool("a", "Act on all pods"),
  latest: bool("l", "Act on the latest pod pod is aware of"),
};

/** `pod pod start`. */
export const podStart = defineCommand({
  name: "start",
  usage: "pod pod start [options] POD [POD...]",
  summary: "Start one or more pods",
  flags: { ...targetFlags, podIdFile: str("Read the pod ID from the file", { ignored: true }) },
  async run(flags, args, g) {
    const { startPod } = await import("../../container/pod/pods.ts");
    return await forEachPod(g.root, { args, ...flags }, (p) => startPod(g.root, p));
  },
});

/** `pod pod stop`. */
export const podStop = defineCommand({
  name: "stop",
  usage: "pod pod stop [options] POD [POD...]",
  summary: "Stop one or more pods",
  flags: {
    ...targetFlags,
    ignore: bool("i", "Ignore errors when a specified pod is missing"),
    time: int("t", "Seconds to wait for the pod's containers to stop before killing them", { default: -1 }),
  },
  async run(flags, args, g) {
    const { stopPod } = await import("../../container/pod/pods.ts");
    const t = flags.time >= 0 ? flags.time : undefined;
    return await forEachPod(g.root, { args, ...flags }, (p) => stopPod(g.root, p, t));
  },
});

/** `pod pod restart`. */
export const podRestart = defineCommand({
  name: "restart",
  usage: "pod pod restart [options] POD [POD...]",
  summary: "Restart one or more pods",
  flags: targetFlags,
  async run(flags, args, g) {
    const { restartPod } = await import("../../container/pod/pods.ts");
    return await forEachPod(g.root, { args, ...flags }, (p) => restartPod(g.root, p));
  },
});

/** `pod pod kill`. */
export const podKill = defineCommand({
  name: "kill",
  usage: "pod pod kill [options] POD [POD...]",
  summary: "Send the specified signal or SIGKILL to containers in a pod",
  flags: {
    ...targetFlags,
    signal: str("s", "Signal to send to the containers in the pod", { default: "KILL" }),
  },
  async run(flags, args, g) {
    const { killPod } = await import("../../container/pod/pods.ts");
    return await forEachPod(g.root, { args, ...flags }, (p) => killPod(g.root, p, flags.signal));
  },
});

function pauseCommand(pause: boolean) {
  const name = pause ? "pause" : "unpause";
  return defineCommand({
    name,
    usage: `pod pod ${name} [options] POD [POD...]`,
    summary: pause ? "Pause one or more pods" : "Unpause one or more pods",
    flags: targetFlags,
    async run(flags, args, g) {
      const { pausePod } = await import("../../container/pod/pods.ts");
      return await forEachPod(g.root, { args, ...flags }, (p) => pausePod(g.root, p, pause));
    },
  });
}

/** `pod pod pause`. */
export const podPause = pauseCommand(true);
/** `pod pod unpause`. */
export const podUnpause = pauseCommand(false);
