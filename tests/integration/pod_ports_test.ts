/**
 * A pod's network is its infra container's (issue 12 × 15), root and rootless: `pod create -p
 * 127.0.0.1:PORT:80` publishes the port on the infra container, so a member's busybox httpd on port 80 is
 * fetched from the host through 127.0.0.1:PORT (rootful: netavark; rootless: slirp4netns, the default), and
 * `kube play` publishes a hostPort the same way. Members see the infra's /etc/hosts (with their own name
 * added) and /etc/resolv.conf. Traffic goes only to 127.0.0.1.
 * @module
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { fetchText, freePort, networkSkipReason, ok } from "../helpers/net.ts";

const HTTPD = "mkdir -p /www && echo hello-member > /www/index.html && exec httpd -f -p 80 -h /www";

await testRootAndRootless(
  "pod ports: published on the infra, served by a member",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }, t) => {
      const why = networkSkipReason(mode);
      if (why) {
        console.log(`SKIPPED (${mode}): ${why}`);
        return;
      }
      const ports: number[] = [];
      try {
        await t.step("pod create -p: a member's httpd on 80 answers on 127.0.0.1:PORT", async () => {
          const port = freePort();
          ports.push(port);
          const made = await h.pod(["pod", "create", "--name", "pp", "-p", `127.0.0.1:${port}:80`]);
          assert.equal(made.code, 0, made.stderr);
          assert.doesNotMatch(made.stderr, /not published/);
          await ok(h, ["run", "-d", "--pod", "pp", "--name", "member", img.ref, "sh", "-c", HTTPD]);
          assert.equal(await fetchText(`http://127.0.0.1:${port}/`, 200), "hello-member\n");
          const infra = (await ok(h, ["pod", "inspect", "--format", "{{.InfraContainerID}}", "pp"])).trim();
          assert.equal(await ok(h, ["port", infra]), `80/tcp -> 127.0.0.1:${port}\n`);
        });

        await t.step(
          "members share the infra's /etc/hosts (their name added) and /etc/resolv.conf",
          async () => {
            const infra = (await ok(h, ["pod", "inspect", "--format", "{{.InfraContainerID}}", "pp"])).trim();
            const ud = `${h.home}/containers/${infra}/userdata`;
            const hosts = await ok(h, ["exec", "member", "cat", "/etc/hosts"]);
            assert.equal(hosts, await Deno.readTextFile(`${ud}/hosts`));
            assert.match(hosts, /\spp\b/, "the pod's hostname");
            assert.match(hosts, /\smember$/m, "the member's name");
            const resolv = await ok(h, ["exec", "member", "cat", "/etc/resolv.conf"]);
            assert.equal(resolv, await Deno.readTextFile(`${ud}/resolv.conf`));
            // a second member resolves the first by name through the shared file
            const other = await ok(h, [
              "run",
              "--rm",
              "--pod",
              "pp",
              img.ref,
              "grep",
              "-c",
              "member",
              "/etc/hosts",
            ]);
            assert.equal(other.trim(), "1");
          },
        );

        await t.step("kube play: a hostPort is published through the pod's infra", async () => {
          const port = freePort();
          ports.push(port);
          const yaml = [
            "apiVersion: v1",
            "kind: Pod",
            "metadata:",
            "  name: kp",
            "spec:",
            "  containers:",
            "  - name: web",
            `    image: ${img.ref}`,
            "    command: [sh, -c, '" + HTTPD + "']",
            "    ports:",
            "    - containerPort: 80",
            `      hostPort: ${port}`,
            "      hostIP: 127.0.0.1",
            "",
          ].join("\n");
          const file = `${h.home}/kp.yaml`;
          await Deno.writeTextFile(file, yaml);
          const r = await h.pod(["kube", "play", file]);
          assert.equal(r.code, 0, r.stderr);
          assert.doesNotMatch(r.stderr, /not published/);
          assert.equal(await fetchText(`http://127.0.0.1:${port}/`, 200), "hello-member\n");
        });

        await t.step("pod rm -f: the host ports are free again", async () => {
          await ok(h, ["pod", "rm", "-a", "-f", "-t", "0"]);
          for (const port of ports) Deno.listen({ hostname: "127.0.0.1", port }).close();
        });
      } finally {
        await h.pod(["pod", "rm", "-a", "-f", "-t", "0"]).catch(() => {});
      }
    }),
);
