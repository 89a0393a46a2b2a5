/**
 * `pod build` end to end, root and rootless: multi-stage with COPY --from and --target, RUN producing files,
 * build args, heredocs, ignore files, ADD of a local tar, the layer cache (hit on rebuild, miss after a context
 * file changed), the built image run, errors with line numbers and RUN exit codes, hostile contexts contained,
 * and podman reading what pod built.
 * @module
 */

import { podmanCgroupParent } from "../helpers/podman_cgroups.ts";
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import type { TempPodHome } from "../helpers/pod.ts";
import { buildTar } from "../helpers/tarwriter.ts";

/** Writes `files` (path → content; `->target` makes a symlink) into a new context dir the store's user owns. */
async function context(h: TempPodHome, name: string, files: Record<string, string>): Promise<string> {
  const dir = `${h.root}/${name}`;
  await Deno.mkdir(dir, { recursive: true });
  for (const [p, c] of Object.entries(files)) {
    const path = `${dir}/${p}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    if (c.startsWith("->")) await Deno.symlink(c.slice(2), path);
    else await Deno.writeTextFile(path, c);
  }
  await own(h, dir);
  return dir;
}

async function own(h: TempPodHome, path: string): Promise<void> {
  if (!h.user) return;
  const r = await new Deno.Command("chown", { args: ["-R", "-h", `${h.user.uid}:${h.user.gid}`, path] })
    .output();
  assert.ok(r.success);
}

const MULTI = (base: string) =>
  `# a multi-stage build
ARG BASE=${base}
FROM $BASE AS builder
ARG GREETING=hello
RUN mkdir /out && echo "$GREETING from builder" > /out/msg && \\
    id -u > /out/uid
RUN <<EOF
echo heredoc > /out/hd
EOF
FROM builder AS unused
RUN echo this stage must be skipped > /skipped

FROM \${BASE}
ENV APP=/app
WORKDIR $APP
COPY --from=builder /out/ ./from-builder/
COPY src/ ./src/
ADD files.tar.gz /unpacked/
COPY <<EOT /app/inline.txt
app is \${APP}
EOT
USER 1000:1000
ENTRYPOINT ["sh", "-c"]
CMD ["cat from-builder/msg from-builder/uid from-builder/hd inline.txt /unpacked/d/t; ls src; pwd; id -u"]
`;

await testRootAndRootless(
  "build: multi-stage, cache, target, ignore file, ADD tar, run the result",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const tarDir = await Deno.makeTempDir();
      await Deno.mkdir(`${tarDir}/d`);
      await Deno.writeTextFile(`${tarDir}/d/t`, "from the tar\n");
      const ctx = await context(h, "ctx", {
        "Containerfile": MULTI(img.ref),
        "src/a.txt": "a\n",
        "src/keep.log": "kept by the exception\n",
        "src/drop.log": "ignored\n",
        "secret/key": "never in the image\n",
        ".containerignore": "secret\n**/*.log\n!src/keep.log\n",
      });
      const tar = await new Deno.Command("tar", { args: ["-C", tarDir, "-czf", `${ctx}/files.tar.gz`, "d"] })
        .output();
      assert.ok(tar.success);
      await Deno.remove(tarDir, { recursive: true });
      await own(h, ctx);

      const b1 = await h.pod(["build", "--build-arg", "GREETING=hi", "-t", "app", ctx]);
      assert.equal(b1.code, 0, b1.stderr + b1.stdout);
      const lines = b1.stdout.trim().split("\n");
      const id = lines.at(-1)!;
      assert.match(id, /^[a-f0-9]{64}$/);
      assert.equal(b1.stdout.split("\n")[0], `[1/3] STEP 1/4: FROM ${img.ref} AS builder`);
      assert.match(b1.stdout, /^\[3\/3\] STEP 10\/10: CMD /m);
      assert.match(b1.stdout, /^\[3\/3\] COMMIT app$/m);
      assert.match(b1.stdout, /^Successfully tagged localhost\/app:latest$/m);
      assert.ok(!b1.stdout.includes("[2/3]"), "the unused stage was built:\n" + b1.stdout);
      assert.ok(!b1.stdout.includes("Using cache"));
      assert.equal(lines.at(-3), `--> ${id.slice(0, 11)}`);

      const run = await h.pod(["run", "--rm", "app"]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(
        run.stdout,
        "hi from builder\n0\nheredoc\napp is /app\nfrom the tar\na.txt\nkeep.log\n/app\n1000\n",
      );
      const secret = await h.pod([
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        "app",
        "-c",
        "ls /app/secret /app/src/drop.log",
      ]);
      assert.notEqual(secret.code, 0, "ignored files made it into the image");

      // the whole build again: every step from the cache, the same image
      const b2 = await h.pod(["build", "--build-arg", "GREETING=hi", "-t", "app", ctx]);
      assert.equal(b2.code, 0, b2.stderr);
      assert.equal(b2.stdout.trim().split("\n").at(-1), id);
      assert.equal(b2.stdout.match(/^--> Using cache [a-f0-9]{64}$/gm)?.length, 12, b2.stdout);

      // a context file changed: the steps before its COPY are cached, that COPY is not
      await Deno.writeTextFile(`${ctx}/src/a.txt`, "changed\n");
      const b3 = await h.pod(["build", "--build-arg", "GREETING=hi", "-t", "app", ctx]);
      assert.equal(b3.code, 0, b3.stderr);
      const afterCopy = b3.stdout.split("COPY src/ ./src/")[1];
      const beforeCopy = b3.stdout.split("COPY src/ ./src/")[0];
      assert.match(beforeCopy, /Using cache/);
      assert.ok(!/Using cache/.test(afterCopy.split("STEP")[0]), b3.stdout);
      assert.notEqual(b3.stdout.trim().split("\n").at(-1), id);
      // a different build arg misses the RUN that sees it
      const b4 = await h.pod(["build", "-q", "--build-arg", "GREETING=other", ctx]);
      assert.equal(b4.code, 0, b4.stderr);
      assert.match(b4.stdout, /^[a-f0-9]{64}\n$/);

      // --target: only the builder stage; --no-cache runs it again
      const bt = await h.pod([
        "build",
        "--target",
        "builder",
        "--no-cache",
        "--build-arg",
        "GREETING=hi",
        "-t",
        "b",
        ctx,
      ]);
      assert.equal(bt.code, 0, bt.stderr);
      assert.ok(!bt.stdout.includes("Using cache"));
      assert.ok(!bt.stdout.includes("[3/3]"));
      const rb = await h.pod(["run", "--rm", "b", "cat", "/out/msg"]);
      assert.equal(rb.stdout, "hi from builder\n");
    }),
);

await testRootAndRootless(
  "build: errors name the line; RUN's exit code is the build's",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const ctx = await context(h, "ctx", {
        "Containerfile": `FROM ${img.ref}\nRUN true\n\nBOGUS thing\n`,
        "Fail.Containerfile": `FROM ${img.ref}\nRUN echo before; exit 3\n`,
      });
      const bad = await h.pod(["build", ctx]);
      assert.equal(bad.code, 125);
      assert.equal(bad.stderr, "Error: Containerfile:4: unknown instruction: BOGUS\n");
      const fail = await h.pod(["build", "-f", `${ctx}/Fail.Containerfile`, ctx]);
      assert.equal(fail.code, 3, fail.stderr);
      assert.match(fail.stdout, /^before$/m);
      // -q: the build's id alone, RUN output included (as podman)
      const quiet = await h.pod(["build", "-q", "-f", `${ctx}/Fail.Containerfile`, ctx]);
      assert.equal(quiet.code, 3);
      assert.equal(quiet.stdout, "");
      assert.match(
        fail.stderr,
        /^Error: building at STEP "RUN echo before; exit 3": while running runtime: exit status 3$/m,
      );
      const ps = await h.pod(["ps", "-a", "-q"]);
      assert.equal(ps.stdout, "", "the RUN container was left behind");
      // Ctrl-C during a RUN: the build ends with 130 and leaves no container running
      await Deno.writeTextFile(`${ctx}/Sleep.Containerfile`, `FROM ${img.ref}\nRUN sleep 60\n`);
      await own(h, ctx);
      const slow = await h.startPod(["build", "-f", `${ctx}/Sleep.Containerfile`, ctx]);
      let running = "";
      for (let i = 0; i < 300 && !running; i++) {
        running = (await h.pod(["ps", "-q"])).stdout.trim();
        if (!running) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(running, "the RUN container never ran");
      slow.kill("SIGINT");
      const ended = await slow.done;
      assert.equal(ended.code, 130, ended.stderr);
      assert.match(ended.stderr, /interrupted by SIGINT/);
      assert.equal((await h.pod(["ps", "-a", "-q"])).stdout, "", "the interrupted RUN's container was left");
      const nofile = await h.pod(["build", `${h.root}`]);
      assert.equal(nofile.code, 125);
      assert.match(nofile.stderr, /no Containerfile or Dockerfile/);
      // a Containerfile alone on stdin
      const stdin = await h.pod(["build", "-q", "-"], { stdin: `FROM ${img.ref}\nENV FROM_STDIN=1\n` });
      assert.equal(stdin.code, 0, stdin.stderr);
      const env = await h.pod(["run", "--rm", stdin.stdout.trim(), "sh", "-c", "echo $FROM_STDIN"]);
      assert.equal(env.stdout, "1\n");
      // a context as a (gzip) tar on stdin; an ONBUILD trigger runs when the image is used as a base
      const tar = buildTar([
        {
          name: "Containerfile",
          content: `FROM ${img.ref}\nCOPY in-tar.txt /\nONBUILD RUN cat /in-tar.txt > /triggered\n`,
        },
        { name: "in-tar.txt", content: "from the tar\n" },
      ]);
      const { gzipSync } = await import("node:zlib");
      const gz = new Uint8Array(gzipSync(tar));
      const fromTar = await h.pod(["build", "-q", "-t", "withtrigger", "-"], { stdin: gz });
      assert.equal(fromTar.code, 0, fromTar.stderr);
      const child = await h.pod(["build", "-q", "-t", "child", "-"], { stdin: "FROM withtrigger\n" });
      assert.equal(child.code, 0, child.stderr);
      const trig = await h.pod(["run", "--rm", "child", "cat", "/triggered"]);
      assert.equal(trig.stdout, "from the tar\n", trig.stderr);
    }),
);

await testRootAndRootless(
  "build: hostile contexts stay contained",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const outside = `${h.root}/outside-secret`;
      await Deno.writeTextFile(outside, "host secret\n");
      await own(h, outside);
      const ctx = await context(h, "ctx", {
        "dir/link": `->${outside}`,
        "abs": `->${outside}`,
        "Containerfile": `FROM ${img.ref}\nCOPY dir/ /copied/\n`,
        "Named.Containerfile": `FROM ${img.ref}\nCOPY abs /abs\n`,
        "Up.Containerfile": `FROM ${img.ref}\nCOPY ../outside-secret /x\n`,
        "Tar.Containerfile": `FROM ${img.ref}\nADD evil.tar /t/\n`,
      });
      await Deno.writeFile(
        `${ctx}/evil.tar`,
        buildTar([{ name: "ok", content: "fine\n" }, {
          name: "../../../escaped-by-tar",
          content: "pwned\n",
        }]),
      );
      await own(h, ctx);
      // a symlink inside a copied directory is copied as a symlink, never its target's contents
      const b = await h.pod(["build", "-t", "sym", ctx]);
      assert.equal(b.code, 0, b.stderr);
      const r = await h.pod([
        "run",
        "--rm",
        "sym",
        "sh",
        "-c",
        "readlink /copied/link; cat /copied/link 2>/dev/null || echo unreadable",
      ]);
      assert.equal(r.stdout, `${outside}\nunreadable\n`);
      // a named source that is a symlink out of the context resolves inside it: not found
      const named = await h.pod(["build", "-f", `${ctx}/Named.Containerfile`, ctx]);
      assert.equal(named.code, 125);
      assert.match(named.stderr, /no such file or directory/);
      const up = await h.pod(["build", "-f", `${ctx}/Up.Containerfile`, ctx]);
      assert.equal(up.code, 125);
      assert.match(up.stderr, /outside the build context/);
      const tar = await h.pod(["build", "-f", `${ctx}/Tar.Containerfile`, ctx]);
      assert.equal(tar.code, 125);
      assert.match(tar.stderr, /escapes the root/);
      for (const p of [`${h.root}/escaped-by-tar`, "/escaped-by-tar", `${ctx}/../escaped-by-tar`]) {
        await assert.rejects(Deno.lstat(p), Deno.errors.NotFound, `${p} was written`);
      }
      assert.equal(await Deno.readTextFile(outside), "host secret\n");
    }),
);

/** podman's default rlimits are refused on some hosts (runc: "error setting rlimits"): explicit ones work. */
const LIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"];

async function hasTool(name: string): Promise<boolean> {
  return (await new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" }).output())
    .success;
}

Deno.test({
  name: "build interop: podman loads and runs what pod built (skipped without podman)",
  ignore: Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    if (!(await hasTool("podman")) || !(await hasTool("runc"))) {
      console.log("SKIPPED: podman or runc is not installed");
      await t.step({ name: "podman missing: skipped", ignore: true, fn() {} });
      return;
    }
    await busyboxSuite("root", async ({ h, img }) => {
      const ctx = await context(h, "ctx", {
        "Containerfile": `FROM ${img.ref}\nRUN echo built-by-pod > /made\nCMD ["cat", "/made"]\n`,
      });
      const b = await h.pod(["build", "-q", "-t", "interop", ctx]);
      assert.equal(b.code, 0, b.stderr);
      const archive = `${h.root}/interop.tar`;
      const s = await h.pod(["save", "-o", archive, "localhost/interop:latest"]);
      assert.equal(s.code, 0, s.stderr);
      const pr = [
        "--root",
        `${h.root}/podman-root`,
        "--runroot",
        `${h.root}/podman-run`,
        "--storage-driver",
        "vfs",
      ];
      const run = (args: string[]) => new Deno.Command("podman", { args: [...pr, ...args] }).output();
      const cgroups = podmanCgroupParent(); // no cgroup of podman's left behind
      try {
        const l = await run(["load", "-i", archive]);
        assert.ok(l.success, new TextDecoder().decode(l.stderr)); // podman applied every layer
        const ins = await run([
          "image",
          "inspect",
          "--format",
          "{{.Id}} {{.Config.Cmd}}",
          "localhost/interop",
        ]);
        assert.equal(new TextDecoder().decode(ins.stdout), `${b.stdout.trim()} [cat /made]\n`);
        const r = await run([
          "--runtime",
          "runc",
          "--cgroup-manager",
          "cgroupfs",
          "run",
          "--rm",
          "--network",
          "none",
          ...cgroups.args,
          ...LIMITS,
          "localhost/interop",
        ]);
        const err = new TextDecoder().decode(r.stderr);
        if (!r.success && /rlimit|cgroup/.test(err)) {
          console.log(`SKIPPED: podman cannot run containers on this host: ${err.trim().split("\n")[0]}`);
          await t.step({
            name: "podman run: this host's podman cannot start containers, skipped",
            ignore: true,
            fn() {},
          });
        } else {
          assert.equal(new TextDecoder().decode(r.stdout), "built-by-pod\n", err);
        }
      } finally {
        await run(["rmi", "-a", "-f"]);
        cgroups.remove();
        await new Deno.Command("rm", { args: ["-rf", `${h.root}/podman-root`, `${h.root}/podman-run`] })
          .output();
      }
    })(t);
  },
});

await testRootAndRootless(
  "build: ARG scoping, --label/--annotation/--iidfile, --squash, --format docker, --layers=false, ADD URL",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const body = "served over loopback\n";
      const sum = Array.from(
        new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body))),
        (b) => b.toString(16).padStart(2, "0"),
      ).join("");
      const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response(body));
      const url = `http://127.0.0.1:${server.addr.port}/dir/fetched.txt`;
      try {
        const ctx = await context(h, "ctx", {
          "Containerfile": `ARG G=global
ARG BASE=${img.ref}
FROM $BASE
RUN echo "before:[$G]" > /a
ARG G
ARG L=local
ENV E=$L
ARG E=argval
RUN echo "after:[$G][$L][$E]" >> /a
ADD --checksum=sha256:${sum} ${url} /web/
RUN rm /a.txt 2>/dev/null; echo squashed-away > /tmpfile && rm /tmpfile
RUN mkdir -p /etc && echo "app:x:1234:2345::/:/bin/sh" >> /etc/passwd && echo "grp:x:3456:" >> /etc/group
COPY --chown=app:grp --chmod=640 owned.txt /owned-named
COPY --chown=app owned.txt /owned-user
COPY --chown=7:8 owned.txt /owned-num
COPY owned.txt /etc
CMD ["cat", "/a", "/web/fetched.txt"]
`,
          "owned.txt": "x\n",
          "Bad.Containerfile": `FROM ${img.ref}\nADD --checksum=sha256:${"0".repeat(64)} ${url} /x\n`,
        });
        const iid = `${h.root}/iid`;
        const b = await h.pod([
          "build",
          "--build-arg",
          "E=ignored-by-env",
          "--build-arg",
          "UNUSED=1",
          "--label",
          "org.example.k=v",
          "--annotation",
          "org.example.a=b",
          "--iidfile",
          iid,
          "--squash",
          "-t",
          "flags",
          ctx,
        ]);
        assert.equal(b.code, 0, b.stderr);
        assert.match(b.stderr, /\[Warning\] one or more build args were not consumed: \[UNUSED\]/);
        const id = b.stdout.trim().split("\n").at(-1)!;
        assert.equal(await Deno.readTextFile(iid), `sha256:${id}`);
        const r = await h.pod(["run", "--rm", "flags"]);
        assert.equal(
          r.stdout,
          `before:[]\nafter:[global][local][local]\n${body}`,
          `code ${r.code}: ${r.stderr}`,
        );
        const st = await h.pod([
          "run",
          "--rm",
          "flags",
          "stat",
          "-c",
          "%u:%g %a",
          "/owned-named",
          "/owned-user",
          "/owned-num",
          "/etc/owned.txt",
          "/etc/passwd",
        ]);
        // a file copied to an existing directory without a trailing / goes into it
        assert.equal(st.stdout, "1234:3456 640\n1234:2345 644\n7:8 644\n0:0 644\n0:0 644\n", st.stderr);
        const [info] = JSON.parse((await h.pod(["image", "inspect", "flags"])).stdout);
        assert.equal(info.Config.Labels["org.example.k"], "v");
        assert.equal(info.Annotations["org.example.a"], "b");
        const base = JSON.parse((await h.pod(["image", "inspect", img.ref])).stdout)[0];
        assert.equal(
          info.RootFS.Layers.length,
          base.RootFS.Layers.length + 1,
          "--squash: one layer on the base",
        );

        // --format docker and --layers=false: no intermediate images left
        const before = (await h.pod(["images", "-q", "--no-trunc"])).stdout.trim().split("\n").length;
        const d = await h.pod(["build", "-q", "--format", "docker", "--layers=false", "-t", "dock", ctx]);
        assert.equal(d.code, 0, d.stderr);
        const [di] = JSON.parse((await h.pod(["image", "inspect", "dock"])).stdout);
        assert.equal(di.ManifestType, "application/vnd.docker.distribution.manifest.v2+json");
        const after = (await h.pod(["images", "-q", "--no-trunc"])).stdout.trim().split("\n").length;
        assert.equal(after, before + 1, "--layers=false left intermediate images");

        const bad = await h.pod(["build", "-f", `${ctx}/Bad.Containerfile`, ctx]);
        assert.equal(bad.code, 125);
        assert.match(bad.stderr, /checksum of .* is sha256:[a-f0-9]{64}, expected sha256:0{64}/);
      } finally {
        await server.shutdown();
      }
    }),
);
