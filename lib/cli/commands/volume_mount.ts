/**
 * `pod volume mount` / `unmount`: a local volume's data is a plain directory, always "mounted": `mount` prints
 * its path, `unmount` its name (podman's output for the local driver).
 * @module
 */

import { defineCommand } from "../flags.ts";
import { println } from "../output.ts";
import { writeEvents } from "../../store/events.ts";

/** `volume mount VOLUME…`: the data directory of each. */
export const mountCommand = defineCommand({
  name: "mount",
  usage: "pod volume mount VOLUME [VOLUME...]",
  summary: "Mount volume",
  minArgs: 1,
  flags: {},
  async run(_flags, args, g) {
    const { getVolume } = await import("../../volume/volumes.ts");
    for (const name of args) {
      println((await getVolume(g.root, name)).mountpoint);
      writeEvents(g.root, { Name: name, Status: "mount", Type: "volume" });
    }
    return 0;
  },
});

/** `volume unmount VOLUME…`: nothing to undo; the names, once each exists. */
export const unmountCommand = defineCommand({
  name: "unmount",
  aliases: ["umount"],
  usage: "pod volume unmount VOLUME [VOLUME...]",
  summary: "Unmount volume",
  minArgs: 1,
  flags: {},
  async run(_flags, args, g) {
    const { getVolume } = await import("../../volume/volumes.ts");
    for (const name of args) {
      println((await getVolume(g.root, name)).record.name);
      writeEvents(g.root, { Name: name, Status: "unmount", Type: "volume" });
    }
    return 0;
  },
});
