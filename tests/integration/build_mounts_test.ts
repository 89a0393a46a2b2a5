/**
 * `RUN --mount` and `build --secret`, root and rootless: a read-only bind of the context (its content in the
 * cache key), an `rw` bind whose writes never reach the context, a bind `from=` an earlier stage, a cache
 * mount that outlives the build, a tmpfs, secrets (default and custom target, mode, uid) that never land in
 * a layer, and the errors: a missing required secret, `../` and symlinked-out sources, a bad option at line N,
 * an unreadable `--secret` file.
 * @module
 */

import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import type { TempPodHome } from "../helpers/pod.ts";

async function context(h: TempPodHome, files: Record<string, string>): Promise<string> {
  const dir = `${h.root}/ctx-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(dir, { recursive: true });
  for (const [p, c] of Object.entries(files)) {
    const path = `${dir}/${p}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    if (c.startsWith("->")) await Deno.symlink(c.slice(2), path);
    else await Deno.writeTextFile(path, c);
  }
  if (h.user) {
    const r = await new Deno.Command("chown", { args: ["-R", "-h", `${h.user.uid}:${h.user.gid}`, dir] })
      .output();
    assert.ok(r.success);
  }
  return dir;
}

const FILE = (base: string) =>
  `FROM ${base} AS stage
RUN mkdir -p /stage && echo staged > /stage/file
FROM ${base}
RUN --mount=type=bind,source=data,target=/ctx cat /ctx/in.txt > /copied && ! touch /ctx/new 2>/dev/null
RUN --mount=type=bind,source=data,target=/ctx,rw touch /ctx/new && echo rw-ok > /rw
RUN --mount=type=bind,from=stage,source=/stage,target=/s cat /s/file > /fromstage
RUN --mount=type=cache,target=/cache,id=c1 echo run >> /cache/log && cp /cache/log /cachelog
RUN --mount=type=tmpfs,target=/t,size=1m grep -q " /t tmpfs" /proc/mounts && echo x > /t/x && echo tmpfs-ok > /tmpfs
RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /secretlen && stat -c %a /run/secrets/tok > /secretmode
RUN --mount=type=secret,id=tok,target=/etc/tok,mode=0440,uid=1000 stat -c '%a %u' /etc/tok > /secret2
RUN --mount=type=secret,id=absent cat /proc/self/mounts | grep -c secrets > /absent || true
RUN --mount=type=bind,from=${base},source=/bin/busybox,target=/bb test -x /bb && cmp /bb /bin/busybox && echo img-ok > /fromimg
`;

await testRootAndRootless(
  "build: RUN --mount bind, rw bind, from=stage, cache, tmpfs, secret",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const ctx = await context(h, { "Containerfile": FILE(img.ref), "data/in.txt": "from the context\n" });
      const secret = `${h.root}/secret.txt`;
      await Deno.writeTextFile(secret, "s3cret");
      if (h.user) await Deno.chown(secret, h.user.uid, h.user.gid);
      const b1 = await h.pod(["build", "--secret", `id=tok,src=${secret}`, "-t", "m", ctx]);
      assert.equal(b1.code, 0, b1.stderr + b1.stdout);
      const sh = async (script: string) => {
        const r = await h.pod(["run", "--rm", "m", "sh", "-c", script]);
        assert.equal(r.code, 0, `${script}: ${r.stderr}`);
        return r.stdout;
      };
      assert.equal(
        await sh(
          "cat /copied /rw /fromstage /cachelog /tmpfs /secretlen /secretmode /secret2 /absent /fromimg",
        ),
        "from the context\nrw-ok\nstaged\nrun\ntmpfs-ok\n6\n400\n440 1000\n0\nimg-ok\n",
      );
      // the mount points are not in the image, nor anything written to the tmpfs or the secrets
      assert.equal(await sh("ls -d /ctx /s /cache /t /run/secrets /etc/tok /bb 2>/dev/null; true"), "");
      await assert.rejects(
        Deno.lstat(`${ctx}/data/new`),
        Deno.errors.NotFound,
        "rw bind wrote to the context",
      );
      const hist = await h.pod(["history", "--no-trunc", "m"]);
      assert.ok(!hist.stdout.includes("s3cret"));

      // the cache mount outlives the build; a context change re-runs the bind RUN, not the others before it
      await Deno.writeTextFile(`${ctx}/data/in.txt`, "changed\n");
      const b2 = await h.pod(["build", "--secret", `id=tok,src=${secret}`, "-t", "m", ctx]);
      assert.equal(b2.code, 0, b2.stderr);
      assert.equal(b2.stdout.match(/^--> Using cache/gm)?.length, 1, b2.stdout); // stage 1's RUN
      assert.equal(await sh("cat /copied /cachelog"), "changed\nrun\nrun\n");
      const b3 = await h.pod(["build", "--secret", `id=tok,src=${secret}`, "-t", "m", ctx]);
      assert.equal(b3.stdout.match(/^--> Using cache/gm)?.length, 10, b3.stdout);
      // image prune --build-cache empties the cache mounts
      assert.equal((await h.pod(["image", "prune", "-f", "--build-cache"])).code, 0);
      const b4 = await h.pod(["build", "--no-cache", "--secret", `id=tok,src=${secret}`, "-t", "m", ctx]);
      assert.equal(b4.code, 0, b4.stderr);
      assert.equal(await sh("cat /cachelog"), "run\n");
    }),
);

await testRootAndRootless(
  "build: RUN --mount errors (missing secret, ../ and symlinked-out sources, bad option at its line)",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const ctx = await context(h, {
        "Containerfile":
          `FROM ${img.ref}\nRUN true\nRUN --mount=type=secret,id=nope,required cat /run/secrets/nope\n`,
        "Up.Containerfile": `FROM ${img.ref}\nRUN --mount=source=../,target=/up ls /up\n`,
        "Link.Containerfile": `FROM ${img.ref}\nRUN --mount=source=out,target=/o cat /o/passwd\n`,
        "Bad.Containerfile": `FROM ${img.ref}\n\nRUN --mount=type=cache,target=/c,bogus=1 true\n`,
        "Sec.Containerfile": `FROM ${img.ref}\nRUN --security=wide-open true\n`,
        "out": "->/etc",
      });
      const cases: [string, RegExp][] = [
        ["Containerfile", /secret required but no secret with id "nope" found/],
        ["Up.Containerfile", /outside the build context/],
        ["Link.Containerfile", /no such file or directory in the build context/],
        ["Bad.Containerfile", /Bad\.Containerfile:3: .*unknown option "bogus"/],
        ["Sec.Containerfile", /Sec\.Containerfile:2: .*want sandbox or insecure/],
      ];
      for (const [file, want] of cases) {
        const r = await h.pod(["build", "-f", `${ctx}/${file}`, ctx]);
        assert.equal(r.code, 125, `${file}: ${r.stderr}`);
        assert.match(r.stderr, want, `${file}: ${r.stderr}`);
        assert.equal(
          r.stderr.trim().split("\n").filter((l) => !/^\s*at /.test(l)).length,
          r.stderr.trim().split("\n").length,
        );
      }
      // RUN --security=insecure: a privileged container (every capability), sandbox the default set
      await Deno.writeTextFile(
        `${ctx}/Ins.Containerfile`,
        `FROM ${img.ref}\nRUN --security=insecure grep CapEff /proc/self/status > /cap1\n` +
          `RUN --security=sandbox grep CapEff /proc/self/status > /cap2\n`,
      );
      const ins = await h.pod(["build", "-q", "-f", `${ctx}/Ins.Containerfile`, ctx]);
      assert.equal(ins.code, 0, ins.stderr);
      const caps = await h.pod(["run", "--rm", ins.stdout.trim(), "cat", "/cap1", "/cap2"]);
      const [c1, c2] = caps.stdout.trim().split("\n").map((l) => BigInt("0x" + l.split(/\s+/)[1]));
      assert.ok(c1 > c2, caps.stdout);
      const miss = await h.pod(["build", "--secret", `id=x,src=${h.root}/nonexistent`, ctx]);
      assert.equal(miss.code, 125);
      assert.match(miss.stderr, /--secret x: cannot read/);
    }),
);
