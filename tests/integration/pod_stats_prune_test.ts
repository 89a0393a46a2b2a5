/**
 * pods2 (issue 15), root and rootless: `pod pod stats` (podman's table, template and JSON; rootless without
 * a cgroup v2 subtree: the same error as `pod stats`), its usage errors; `system prune` removes stopped pods
 * ("Deleted Pods") and keeps running ones; `system reset -f` with a running pod stops and removes it (no
 * error, its processes gone).
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { isOneLineError } from "../helpers/pod.ts";
import { pathExists } from "../../lib/store/paths.ts";

const SLEEP = ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"];

await testRootAndRootless(
  "pod stats, system prune/reset of pods",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }, t) => {
      const ok0 = async (args: string[]) => {
        const r = await h.pod(args);
        equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
        return r;
      };
      const podId = (await ok0(["pod", "create", "--name", "p1"])).stdout.trim();
      await ok0(["run", "-d", "--pod", "p1", "--name", "m1", img.ref, ...SLEEP]);
      const infraId = (await ok0(["pod", "inspect", "--format", "{{.InfraContainerID}}", "p1"])).stdout
        .trim();

      await t.step("pod stats", async () => {
        const plain = await h.pod(["stats", "--no-stream"]);
        const r = await h.pod(["pod", "stats", "--no-stream"]);
        if (plain.code !== 0) {
          // no cgroups to read (rootless on cgroup v1): the same one-line error as `pod stats`
          equal(mode, "rootless", plain.stderr);
          equal(r.code, 125);
          equal(r.stderr, plain.stderr);
          match(r.stderr, /not supported in rootless mode/);
          return;
        }
        equal(r.code, 0, r.stderr);
        const lines = r.stdout.trimEnd().split("\n");
        match(lines[0], /^POD\s+CID\s+NAME\s+CPU %\s+MEM USAGE\/ LIMIT\s+MEM %\s+NET IO\s+BLOCK IO\s+PIDS$/);
        deepEqual(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3)), [
          [podId.slice(0, 12), infraId.slice(0, 12), `${podId.slice(0, 12)}-infra`],
          [podId.slice(0, 12), lines[2].split(/\s+/)[1], "m1"],
        ]);
        const json = JSON.parse(
          (await ok0(["pod", "stats", "--no-stream", "--format", "json", "p1"])).stdout,
        );
        deepEqual(Object.keys(json[1]), [
          "CPU",
          "MemUsage",
          "MemUsageBytes",
          "Mem",
          "NetIO",
          "BlockIO",
          "PIDS",
          "Pod",
          "CID",
          "Name",
        ]);
        equal(json[1].Name, "m1");
        ok(Number(json[1].PIDS) >= 2, json[1].PIDS); // sh and sleep
        match(json[1].MemUsage, /^\S+ \/ \S+$/);
        const tpl = await ok0(["pod", "stats", "--no-stream", "--format", "{{.Pod}} {{.Name}}", "--latest"]);
        equal(tpl.stdout, `${podId.slice(0, 12)} ${podId.slice(0, 12)}-infra\n${podId.slice(0, 12)} m1\n`);
      });

      await t.step("pod stats: bad input", async () => {
        const both = await h.pod(["pod", "stats", "--no-stream", "-a", "p1"]);
        equal(both.code, 125);
        ok(isOneLineError(both.stderr), both.stderr);
        match(both.stderr, /--all, --latest and arguments cannot be used together/);
        const missing = await h.pod(["pod", "stats", "--no-stream", "nosuch"]);
        equal(missing.code, 125);
        ok(isOneLineError(missing.stderr), missing.stderr);
      });

      await t.step("system prune removes stopped pods, keeps running ones", async () => {
        const p2 = (await ok0(["pod", "create", "--name", "p2"])).stdout.trim();
        await ok0(["create", "--pod", "p2", "--name", "m2", img.ref, "true"]);
        const pruned = await ok0(["system", "prune", "-f"]);
        match(pruned.stdout, new RegExp(`^Deleted Pods\n${p2}\n`), pruned.stdout);
        equal((await h.pod(["pod", "exists", "p2"])).code, 1);
        equal((await h.pod(["container", "exists", "m2"])).code, 1);
        equal((await h.pod(["pod", "exists", "p1"])).code, 0);
        const names = (await ok0(["ps", "-a", "--format", "{{.Names}}"])).stdout.trim().split("\n").sort();
        deepEqual(names, [`${podId.slice(0, 12)}-infra`, "m1"]);
        // a label filter leaves pods without the label alone
        await ok0(["pod", "create", "--name", "p3"]);
        const filtered = await ok0(["system", "prune", "-f", "--filter", "label=keep=no"]);
        ok(!filtered.stdout.includes("Deleted Pods"), filtered.stdout);
        equal((await h.pod(["pod", "exists", "p3"])).code, 0);
      });

      await t.step("system reset -f stops and removes a running pod", async () => {
        const pids = [];
        for (const c of [infraId, "m1"]) {
          pids.push(Number((await ok0(["inspect", "--format", "{{.State.Pid}}", c])).stdout.trim()));
        }
        ok(pids.every((p) => p > 0), String(pids));
        const r = await ok0(["system", "reset", "-f"]);
        equal(r.stderr, "");
        equal(await pathExists(h.home), false);
        for (const p of pids) equal(await pathExists(`/proc/${p}`), false, `pid ${p} still runs`);
      });
    }),
);
