/**
 * The containment resolver (lib/unpack/contain.ts) on real temp trees: container paths (`resolveInRoot`),
 * archive names (`cleanName`, `dotdot: "refuse"`) and the unpacker's parent resolution (`Root.resolveDir`).
 * Each tree has an "outside" directory beside the root holding a secret; nothing may resolve into it.
 */
import assert from "node:assert/strict";
import { cleanName, MAX_LINKS, resolveInRoot, Root, RuleError } from "../../lib/unpack/contain.ts";
import { seededRandom } from "../helpers/fixtures.ts";

interface Tree {
  /** The canonical root directory. */
  root: string;
  /** A directory beside the root, with a file `secret`. */
  outside: string;
}

function withTree(fn: (t: Tree) => void): () => void {
  return () => {
    const base = Deno.realPathSync(Deno.makeTempDirSync({ prefix: "pod-contain-" }));
    try {
      const root = `${base}/root`;
      const outside = `${base}/outside`;
      Deno.mkdirSync(root);
      Deno.mkdirSync(outside);
      Deno.writeTextFileSync(`${outside}/secret`, "host");
      fn({ root, outside });
    } finally {
      Deno.removeSync(base, { recursive: true });
    }
  };
}

const follow = { follow: true } as const;

function refused(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e) => e instanceof RuleError && re.test(e.message));
}

Deno.test(
  "resolveInRoot: `..` clamps at the root, in the path and in link targets",
  withTree(({ root }) => {
    Deno.mkdirSync(`${root}/etc`);
    Deno.symlinkSync("../../../../etc", `${root}/up`);
    assert.equal(resolveInRoot(root, "/../../etc/passwd"), `${root}/etc/passwd`);
    assert.equal(resolveInRoot(root, "../outside/secret"), `${root}/outside/secret`);
    assert.equal(resolveInRoot(root, "/etc/../../../outside"), `${root}/outside`);
    assert.equal(resolveInRoot(root, "/up/passwd"), `${root}/etc/passwd`);
    assert.equal(resolveInRoot(root, "/up/../../..", follow), root);
    assert.equal(resolveInRoot(root, ".."), root);
  }),
);

Deno.test(
  "resolveInRoot: `..` after a link is the parent of where the link leads (chroot, not lexical)",
  withTree(({ root }) => {
    Deno.mkdirSync(`${root}/a/b`, { recursive: true });
    Deno.symlinkSync("a/b", `${root}/l`);
    assert.equal(resolveInRoot(root, "/l/.."), `${root}/a`);
    assert.equal(resolveInRoot(root, "/l/../../x"), `${root}/x`);
  }),
);

Deno.test(
  "resolveInRoot: absolute link targets restart at the root, not at the host's /",
  withTree(({ root, outside }) => {
    Deno.mkdirSync(`${root}/real`);
    Deno.symlinkSync("/real", `${root}/abs`);
    Deno.symlinkSync(outside, `${root}/host`); // the host path of the outside dir
    Deno.symlinkSync("/", `${root}/slash`);
    assert.equal(resolveInRoot(root, "/abs/x"), `${root}/real/x`);
    assert.equal(resolveInRoot(root, "/host/secret", follow), `${root}${outside}/secret`);
    assert.equal(resolveInRoot(root, "/slash", follow), root);
    assert.equal(resolveInRoot(root, "/slash/slash/real", follow), `${root}/real`);
  }),
);

Deno.test(
  "resolveInRoot: a symlinked parent pointing out is followed inside the root",
  withTree(({ root, outside }) => {
    const name = outside.slice(outside.lastIndexOf("/") + 1);
    Deno.symlinkSync(`../${name}`, `${root}/rel`);
    Deno.symlinkSync(`../../../../../../../${outside}`, `${root}/deep`);
    Deno.mkdirSync(`${root}/d`);
    Deno.symlinkSync(`../../${name}`, `${root}/d/up2`);
    for (const p of ["/rel/secret", "/d/up2/secret"]) {
      assert.equal(resolveInRoot(root, p, follow), `${root}/${name}/secret`);
    }
    assert.equal(resolveInRoot(root, "/deep/secret", follow), `${root}${outside}/secret`);
    // created through the link: inside the root, the outside dir untouched
    const made = resolveInRoot(root, "/rel/new/file", { follow: true, create: "file" });
    assert.equal(made, `${root}/${name}/new/file`);
    assert.ok(Deno.statSync(made).isFile);
    assert.deepEqual([...Deno.readDirSync(outside)].map((e) => e.name), ["secret"]);
  }),
);

Deno.test(
  "resolveInRoot: the last component is followed only when asked",
  withTree(({ root }) => {
    Deno.mkdirSync(`${root}/etc`);
    Deno.writeTextFileSync(`${root}/etc/real`, "x");
    Deno.symlinkSync("/etc/real", `${root}/etc/link`);
    Deno.symlinkSync("/etc", `${root}/etcl`);
    assert.equal(resolveInRoot(root, "/etc/link"), `${root}/etc/link`);
    assert.equal(resolveInRoot(root, "/etc/link", follow), `${root}/etc/real`);
    // a link on the way is always followed, the last one only with `follow`
    assert.equal(resolveInRoot(root, "/etcl/link"), `${root}/etc/link`);
    assert.equal(resolveInRoot(root, "/etcl"), `${root}/etcl`);
    // a trailing `/` or `/.` asks for it, as in the kernel
    assert.equal(resolveInRoot(root, "/etcl/"), `${root}/etc`);
    assert.equal(resolveInRoot(root, "/etcl/."), `${root}/etc`);
  }),
);

Deno.test(
  "resolveInRoot: symlink loops and chains longer than 40 links are refused",
  withTree(({ root }) => {
    Deno.symlinkSync("b", `${root}/a`);
    Deno.symlinkSync("/a", `${root}/b`);
    Deno.symlinkSync("self", `${root}/self`);
    refused(() => resolveInRoot(root, "/a/x"), /too many levels of symbolic links/);
    refused(() => resolveInRoot(root, "/a", follow), /too many levels of symbolic links/);
    refused(() => resolveInRoot(root, "/self/x"), /too many levels of symbolic links/);
    assert.equal(resolveInRoot(root, "/self"), `${root}/self`); // not followed: no loop met
    // chains: cN → c(N-1) → … → c1 → dir; following cN takes N links
    Deno.mkdirSync(`${root}/dir`);
    Deno.symlinkSync("dir", `${root}/c1`);
    for (let i = 2; i <= MAX_LINKS + 1; i++) {
      Deno.symlinkSync(i % 2 ? `c${i - 1}` : `/c${i - 1}`, `${root}/c${i}`);
    }
    assert.equal(resolveInRoot(root, `/c${MAX_LINKS}/f`), `${root}/dir/f`);
    assert.equal(resolveInRoot(root, `/c${MAX_LINKS}`, follow), `${root}/dir`);
    refused(() => resolveInRoot(root, `/c${MAX_LINKS + 1}/f`), /too many levels/);
    refused(() => resolveInRoot(root, `/c${MAX_LINKS + 1}`, follow), /too many levels/);
    refused(() => new Root(root).resolveDir([`c${MAX_LINKS + 1}`], false), /too many levels/);
    // the count is per resolution: two chains of 30 in one path are 60 links
    refused(() => resolveInRoot(root, "/c30/../c30/f"), /too many levels/);
  }),
);

Deno.test(
  "resolveInRoot: NUL bytes are refused",
  withTree(({ root }) => {
    refused(() => resolveInRoot(root, "/etc/pass\0wd"), /NUL byte/);
    refused(() => resolveInRoot(root, "/etc/pass\0wd", { dotdot: "refuse" }), /NUL byte/);
    refused(() => cleanName("a\0b"), /NUL byte/);
  }),
);

Deno.test(
  "resolveInRoot: create makes missing directories and the last component as asked",
  withTree(({ root }) => {
    const d = resolveInRoot(root, "/a/b/c", { create: "dir" });
    assert.equal(d, `${root}/a/b/c`);
    assert.ok(Deno.lstatSync(d).isDirectory);
    assert.equal(Deno.lstatSync(`${root}/a`).mode! & 0o777, 0o755 & ~umask());
    const f = resolveInRoot(root, "/x/y/hosts", { create: "file" });
    assert.equal(f, `${root}/x/y/hosts`);
    assert.ok(Deno.lstatSync(`${root}/x/y`).isDirectory);
    assert.ok(Deno.lstatSync(f).isFile);
    assert.equal(Deno.statSync(f).size, 0);
    // existing: returned as is, not truncated
    Deno.writeTextFileSync(f, "kept");
    assert.equal(resolveInRoot(root, "/x/y/hosts", { create: "file" }), f);
    assert.equal(Deno.readTextFileSync(f), "kept");
    // a dangling link followed: its target is created inside the root
    Deno.symlinkSync("/run/real-hosts", `${root}/hosts`);
    const t = resolveInRoot(root, "/hosts", { follow: true, create: "file" });
    assert.equal(t, `${root}/run/real-hosts`);
    assert.ok(Deno.lstatSync(t).isFile);
    // not followed: the link itself is the answer, nothing created
    assert.equal(resolveInRoot(root, "/hosts", { create: "file" }), `${root}/hosts`);
  }),
);

Deno.test(
  "resolveInRoot: without create, a missing tail is kept as plain names; `..` below it does not exist",
  withTree(({ root, outside }) => {
    Deno.symlinkSync(outside, `${root}/host`);
    Deno.mkdirSync(`${root}/d`);
    Deno.symlinkSync("nope/../../host", `${root}/d/via-missing`);
    assert.equal(resolveInRoot(root, "/nope/a/b"), `${root}/nope/a/b`);
    assert.equal(resolveInRoot(root, "/../../d/./a/b"), `${root}/d/a/b`);
    // `missing/..` is ENOENT for the kernel: never taken back lexically (that would skip the link `host`
    // and leave a host-side lookup of `<root>/host/secret` to follow it out of the root)
    for (const p of ["/nope/../host/secret", "/nope/x/../../host/secret", "/nope/a/../b", "/d/via-missing"]) {
      assert.throws(() => resolveInRoot(root, p, follow), Deno.errors.NotFound, p);
    }
    assert.equal(new Root(root).resolveDir(["d", "via-missing"], false), null);
    assert.equal([...Deno.readDirSync(root)].length, 2); // nothing created
  }),
);

Deno.test(
  "resolveInRoot: a path through a regular file is refused",
  withTree(({ root }) => {
    Deno.mkdirSync(`${root}/etc`);
    Deno.writeTextFileSync(`${root}/etc/passwd`, "root:x:0:0::/:/bin/sh\n");
    Deno.symlinkSync("/etc/passwd", `${root}/pw`);
    refused(() => resolveInRoot(root, "/etc/passwd/x"), /"etc\/passwd" is not a directory/);
    refused(() => resolveInRoot(root, "/etc/passwd/x", { create: "dir" }), /is not a directory/);
    refused(() => resolveInRoot(root, "/pw/x"), /"etc\/passwd" is not a directory/);
    refused(() => resolveInRoot(root, "/etc/passwd/.."), /is not a directory/);
    refused(() => new Root(root).resolveDir(["etc", "passwd"], true), /is not a directory/);
    refused(() => new Root(root).resolveDir(["pw"], false), /is not a directory/);
    assert.equal(resolveInRoot(root, "/etc/passwd", follow), `${root}/etc/passwd`);
  }),
);

Deno.test(
  "resolveInRoot: the root itself, with or without trailing slashes, and `/` as the root",
  withTree(({ root }) => {
    assert.equal(resolveInRoot(root, "/"), root);
    assert.equal(resolveInRoot(`${root}//`, ""), root);
    assert.equal(resolveInRoot(`${root}/`, "/a"), `${root}/a`);
    assert.equal(resolveInRoot("/", "/"), "/");
    assert.equal(resolveInRoot("/", "/../nonexistent-pod-path/x"), "/nonexistent-pod-path/x");
  }),
);

Deno.test('cleanName and dotdot "refuse": archive names are cleaned lexically, climbing out refused', () => {
  assert.deepEqual(cleanName("/./a//b/../c/"), ["a", "c"]);
  assert.deepEqual(cleanName("a/.."), []);
  refused(() => cleanName("../x"), /path escapes the root/);
  refused(() => cleanName("a/../../x", "hardlink target"), /hardlink target escapes the root/);
  const root = Deno.realPathSync(Deno.makeTempDirSync());
  try {
    Deno.mkdirSync(`${root}/a/b`, { recursive: true });
    Deno.symlinkSync("a/b", `${root}/l`);
    refused(() => resolveInRoot(root, "/../etc", { dotdot: "refuse" }), /escapes the root/);
    // lexical: `l/..` is the root whatever `l` is (clamped, the walk would give `a`)
    assert.equal(resolveInRoot(root, "/l/../x", { dotdot: "refuse" }), `${root}/x`);
    assert.equal(resolveInRoot(root, "/l/../x"), `${root}/a/x`);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test(
  "Root.resolveDir: parents of archive entries, created, cached, reported",
  withTree(({ root, outside }) => {
    const r = new Root(root);
    assert.equal(r.resolveDir([], false), "");
    assert.equal(r.resolveDir(["a", "b"], false), null);
    const made: string[] = [];
    assert.equal(r.resolveDir(["a", "b"], true, (rel) => made.push(rel)), "a/b");
    assert.deepEqual(made, ["a", "a/b"]);
    Deno.symlinkSync(outside, `${root}/a/out`);
    Deno.symlinkSync("../..", `${root}/a/b/up`);
    assert.equal(r.resolveDir(["a", "b", "up", "c"], true), "c");
    assert.equal(r.resolveDir(["a", "out"], true, (rel) => made.push(rel)), outside.slice(1));
    assert.ok(Deno.lstatSync(`${root}${outside}`).isDirectory);
    assert.deepEqual([...Deno.readDirSync(outside)].map((e) => e.name), ["secret"]);
    // cached directories are trusted until forgotten
    Deno.removeSync(`${root}/c`);
    Deno.symlinkSync("/a", `${root}/c`);
    assert.equal(r.resolveDir(["c"], false), "c");
    r.forgetDirs();
    assert.equal(r.resolveDir(["c"], false), "a");
    assert.equal(r.isRealDir("a/b"), true);
    assert.equal(r.isRealDir("c"), false);
  }),
);

const FUZZ_SEED = Number(Deno.env.get("POD_FUZZ_SEED") ?? 4242);
const NAMES = ["a", "b", "c", "..", ".", "", "etc", "x"];

/** Random relative or absolute paths over a few names, and random trees of them. */
function fuzzer(seed: number) {
  const rand = seededRandom(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
  const randomPath = (n: number) => Array.from({ length: n }, () => pick(NAMES)).join("/");
  return {
    path: () => (rand() < 0.5 ? "/" : "") + randomPath(1 + Math.floor(rand() * 6)),
    /** Empties `root` and fills it with directories, files and links (absolute, relative, out, looping). */
    tree(root: string, outside: string): void {
      for (const e of Deno.readDirSync(root)) Deno.removeSync(`${root}/${e.name}`, { recursive: true });
      for (let i = 0; i < 25; i++) {
        const p = `${root}/${randomPath(1 + Math.floor(rand() * 3)).replace(/(^|\/)\.\.?(?=\/|$)/g, "$1d")}`;
        const kind = rand();
        const target = kind < 0.55
          ? outside
          : (rand() < 0.5 ? "/" : "") + randomPath(1 + Math.floor(rand() * 4));
        try {
          if (kind < 0.4) Deno.mkdirSync(p, { recursive: true });
          else if (kind < 0.5) Deno.writeTextFileSync(p, "f");
          else Deno.symlinkSync(target, p);
        } catch { /* parent missing or name taken: skipped */ }
      }
    },
  };
}

Deno.test(
  "resolveInRoot (fuzz): with `follow`, an existing result is canonical and inside the root",
  withTree(({ root, outside }) => {
    const f = fuzzer(FUZZ_SEED);
    for (let round = 0; round < 30; round++) {
      f.tree(root, outside);
      for (let i = 0; i < 100; i++) {
        const path = f.path();
        let host: string;
        try {
          host = resolveInRoot(root, path, follow);
        } catch (e) {
          assert.ok(e instanceof RuleError || e instanceof Deno.errors.NotFound, `${path}: ${e}`);
          continue;
        }
        assert.ok(host === root || host.startsWith(`${root}/`), `${path} → ${host}`);
        assert.ok(!`${host}/`.includes("/../") && !`${host}/`.includes("/./"), `${path} → ${host}`);
        let real: string | undefined;
        try {
          real = Deno.realPathSync(host);
        } catch { /* missing */ }
        if (real !== undefined) assert.equal(real, host, `${path}: the host resolves ${host} elsewhere`);
      }
    }
  }),
);

const BUSYBOX = "/bin/busybox";
const canChroot = Deno.uid() === 0 && (() => {
  try {
    return Deno.statSync(BUSYBOX).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "resolveInRoot (fuzz): the same directories as the kernel finds inside a chroot",
  ignore: !canChroot,
  fn: withTree(({ root, outside }) => {
    const f = fuzzer(FUZZ_SEED + 1);
    let compared = 0;
    for (let round = 0; round < 6; round++) {
      f.tree(root, outside);
      Deno.copyFileSync(BUSYBOX, `${root}/busybox`);
      const paths = Array.from({ length: 150 }, f.path).filter((p) => p !== "");
      // the kernel's answer for each path: the directory `cd -P` reaches chrooted into the root, or "-"
      const script = 'for p in "$@"; do r=$(cd -P -- "$p" 2>&1 && pwd -P) || r=-; echo "$r"; done';
      const out = new Deno.Command("chroot", { args: [root, "/busybox", "sh", "-c", script, "sh", ...paths] })
        .outputSync();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const kernel = new TextDecoder().decode(out.stdout).split("\n").slice(0, -1);
      assert.equal(kernel.length, paths.length);
      const inside = (host: string) => host === root ? "/" : host.slice(root.length);
      const isDir = (p: string) => {
        try {
          return Deno.lstatSync(root + p).isDirectory;
        } catch {
          return false;
        }
      };
      paths.forEach((path, i) => {
        const k = kernel[i] === "-" ? undefined : kernel[i];
        let ours: string | undefined;
        try {
          ours = inside(resolveInRoot(root, path, follow));
        } catch { /* refused */ }
        // compared where one side found a directory
        if (ours !== undefined && isDir(ours)) assert.equal(k, ours, `path ${JSON.stringify(path)}`);
        else if (k !== undefined) assert.equal(ours, k, `path ${JSON.stringify(path)}`);
        else return;
        compared++;
      });
      Deno.removeSync(`${root}/busybox`);
    }
    assert.ok(compared > 100, `only ${compared} existing paths compared`);
  }),
});

function umask(): number {
  const old = Deno.umask(0o022);
  Deno.umask(old);
  return old;
}
