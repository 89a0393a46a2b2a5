/**
 * Joining another container's namespaces (`--network/--ipc/--uts/--pid container:NAME`, `ns:PATH`), root and
 * rootless: the joiner reaches the target's server on 127.0.0.1, sees its hostname and processes; inspect
 * names the mode; a stopped target refuses a start.
 * @module
 */
import { equal, match, ok } from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { isOneLineError } from "../helpers/pod.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await testRootAndRootless("namespace joining", (mode) =>
  busyboxSuite(mode, async ({ h, img }) => {
    const srv = await h.pod([
      "run",
      "-d",
      "--name",
      "target",
      "--hostname",
      "tgt-host",
      img.ref,
      "sh",
      "-c",
      "echo hello-from-target > /tmp/index.html; httpd -f -p 127.0.0.1:8080 -h /tmp",
    ]);
    equal(srv.code, 0, srv.stderr);
    // the server may take a moment to listen: retry inside the joined container
    const fetch = await h.pod([
      "run",
      "--rm",
      "--network",
      "container:target",
      "--uts",
      "container:target",
      "--pid",
      "container:target",
      "--ipc",
      "container:target",
      img.ref,
      "sh",
      "-c",
      "for i in $(seq 50); do wget -q -O - http://127.0.0.1:8080/index.html && break; sleep 0.1; done; " +
      "hostname; ps -o comm | grep -c httpd",
    ]);
    equal(fetch.code, 0, fetch.stderr);
    const lines = fetch.stdout.trim().split("\n");
    equal(lines[0], "hello-from-target");
    equal(lines[1], "tgt-host");
    equal(lines[2], "1", `the target's httpd is visible in the shared pid namespace: ${fetch.stdout}`);

    // a container with only the network joined has its own hostname and pid namespace
    const own = await h.pod([
      "run",
      "--rm",
      "--network",
      "container:target",
      img.ref,
      "sh",
      "-c",
      "hostname; ps -o pid | wc -l",
    ]);
    equal(own.code, 0, own.stderr);
    ok(own.stdout.split("\n")[0] !== "tgt-host", own.stdout);

    // detached joiner: inspect's modes; stop of the joiner leaves the target running
    const j = await h.pod([
      "run",
      "-d",
      "--name",
      "joiner",
      "--network",
      "container:target",
      "--pid",
      "container:target",
      img.ref,
      "sleep",
      "1000",
    ]);
    equal(j.code, 0, j.stderr);
    const targetId = (await h.pod(["inspect", "--format", "{{.Id}}", "target"])).stdout.trim();
    const modes = await h.pod([
      "inspect",
      "--format",
      "{{.HostConfig.NetworkMode}} {{.HostConfig.PidMode}}",
      "joiner",
    ]);
    equal(modes.stdout.trim(), `container:${targetId} container:${targetId}`);
    const stop = await h.pod(["stop", "-t", "0", "joiner"]);
    equal(stop.code, 0, stop.stderr);
    const st = await h.pod(["inspect", "--format", "{{.State.Status}}", "target"]);
    equal(st.stdout.trim(), "running", "stopping the joiner must not stop the target");

    // a stopped target: the joiner cannot start
    equal((await h.pod(["stop", "-t", "0", "target"])).code, 0);
    await sleep(50);
    const fail = await h.pod(["start", "joiner"]);
    equal(fail.code, 125, fail.stderr);
    ok(isOneLineError(fail.stderr), fail.stderr);
    match(fail.stderr, /not running/);

    // bad values: one line, 125
    const bad = await h.pod(["run", "--rm", "--network", "container:", img.ref, "true"]);
    equal(bad.code, 125);
    const missing = await h.pod(["run", "--rm", "--ipc", "container:nosuch", img.ref, "true"]);
    equal(missing.code, 125);
    match(missing.stderr, /no container with name or ID "nosuch"/);
  }));

await testRootAndRootless("namespace joining by path", (mode) =>
  busyboxSuite(mode, async ({ h, img }) => {
    const t = await h.pod(["run", "-d", "--name", "t", "--hostname", "pathhost", img.ref, "sleep", "1000"]);
    equal(t.code, 0, t.stderr);
    const pid = (await h.pod(["inspect", "--format", "{{.State.Pid}}", "t"])).stdout.trim();
    const r = await h.pod(["run", "--rm", "--uts", `ns:/proc/${pid}/ns/uts`, img.ref, "hostname"]);
    if (mode === "rootless") {
      // rootless, a path's namespace belongs to a user namespace pod cannot enter: refused in one line
      equal(r.code, 125, r.stderr);
      ok(isOneLineError(r.stderr), r.stderr);
      match(r.stderr, /container:ID/);
      return;
    }
    equal(r.code, 0, r.stderr);
    equal(r.stdout.trim(), "pathhost");
  }));
