/** `pod image tree`: an image's layers, podman's layout. @module */

import { bool, defineCommand } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { println } from "../output.ts";
import { humanSize } from "../../format/units.ts";

export default defineCommand({
  name: "tree",
  usage: "pod image tree [options] IMAGE",
  summary: "Print the layer hierarchy of an image",
  minArgs: 1,
  maxArgs: 1,
  flags: {
    whatrequires: bool("Show all child images and layers of the specified image (not supported)"),
  },
  async run(flags, args, g) {
    if (flags.whatrequires) throw new UsageError("--whatrequires is not supported");
    const { imageTree } = await import("../../image/layer_tree.ts");
    const t = await imageTree(g.root, args[0]);
    const lines = [
      `Image ID: ${t.id.slice(0, 12)}`,
      `Tags:     [${t.names.join(" ")}]`,
      `Size:     ${humanSize(t.size, 4)}`,
    ];
    if (t.layers.length) lines.push("Image Layers");
    for (const [i, l] of t.layers.entries()) {
      const branch = i === t.layers.length - 1 ? "└── " : "├── ";
      const tops = l.topOf.length ? ` Top Layer of: [${l.topOf.join(" ")}]` : "";
      lines.push(`${branch}ID: ${l.chainId.slice(7, 19)} Size: ${humanSize(l.size, 4).padStart(7)}${tops}`);
    }
    println(lines.join("\n"));
    return 0;
  },
});
