import assert from "node:assert/strict";
import { ImageFiles } from "../../lib/build/image_files.ts";
import { buildTar, type TarEntryInput } from "../helpers/tarwriter.ts";

async function layers(dir: string, ls: TarEntryInput[][]) {
  const out = [];
  for (let i = 0; i < ls.length; i++) {
    const path = `${dir}/l${i}.tar`;
    await Deno.writeFile(path, buildTar(ls[i]));
    out.push({ path, mediaType: "application/vnd.oci.image.layer.v1.tar" });
  }
  return out;
}

async function bodies(f: ImageFiles, wanted: Map<string, string>) {
  const out: Record<string, string> = {};
  for await (const e of f.stream(wanted)) {
    let text: string = e.type;
    if (e.type === "file" && typeof e.body === "function") {
      const parts: Uint8Array[] = [];
      for await (const c of e.body()) parts.push(c.slice());
      text = new TextDecoder().decode(await new Blob(parts as BlobPart[]).arrayBuffer());
    } else if (e.type === "symlink") text = `-> ${e.linkname}`;
    out[e.name] = text;
  }
  return out;
}

Deno.test("image files: layers merged with whiteouts and opaque dirs, symlinks resolved inside the image", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ls = await layers(dir, [
      [
        { name: "etc/", type: "dir" },
        { name: "etc/passwd", content: "root:x:0:0::/:/bin/sh\n" },
        { name: "old/", type: "dir" },
        { name: "old/a", content: "a" },
        { name: "keep/", type: "dir" },
        { name: "keep/x", content: "x1" },
        { name: "link", type: "symlink", linkname: "/etc" },
        { name: "escape", type: "symlink", linkname: "../../../../etc/passwd" },
      ],
      [
        { name: "old/.wh..wh..opq", content: "" },
        { name: "old/b", content: "b" },
        { name: "keep/.wh.x", content: "" },
        { name: "keep/y", content: "y2" },
      ],
    ]);
    const f = await ImageFiles.open(ls);
    assert.ok(!f.entries.has("old/a"), "opaque dir hides the lower layer's files");
    assert.ok(f.entries.has("old/b"));
    assert.ok(!f.entries.has("keep/x"), "whiteout removes the file");
    assert.equal(f.resolve("/link/passwd"), "etc/passwd");
    assert.equal(f.resolve("/escape"), "etc/passwd", "a climbing symlink stays inside the image");
    assert.equal(f.resolve("/nope"), undefined);
    assert.ok(f.isDir("etc") && !f.isDir("etc/passwd"));
    assert.equal(await f.readText("/link/passwd"), "root:x:0:0::/:/bin/sh\n");
    const got = await bodies(f, new Map([["keep/y", "dst/y"], ["old/b", "dst/b"], ["link", "dst/l"]]));
    assert.deepEqual(got, { "dst/b": "b", "dst/y": "y2", "dst/l": "-> /etc" });
    // extending a known prefix gives the same view as reading everything
    const base = await ImageFiles.open(ls.slice(0, 1));
    const ext = await ImageFiles.open(ls, base);
    assert.deepEqual([...ext.entries.keys()].sort(), [...f.entries.keys()].sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
