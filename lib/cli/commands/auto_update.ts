/**
 * `pod auto-update [--dry-run] [--format]`: podman's auto-update without a daemon (lib/container/auto_update.ts
 * decides): newer images are pulled and their containers recreated from their create commands (or their
 * systemd units restarted); prints podman's UNIT CONTAINER IMAGE POLICY UPDATED table.
 * @module
 */

import { bool, defineCommand, str } from "../flags.ts";
import { PodError } from "../../errors.ts";
import { printError, printFormatted, printTable } from "../output.ts";

/** Recreates a container from its recorded create command with the same name; starts it again if it ran. */
async function recreate(root: string, id: string): Promise<void> {
  const { getContainer } = await import("../../store/containers.ts");
  const { removeById } = await import("../../container/lifecycle.ts");
  const { selfCommand } = await import("../self_exec.ts");
  const rec = await getContainer(root, id);
  const [, verb, ...rest] = rec.config.createCommand;
  if (verb !== "create" && verb !== "run") {
    throw new PodError(`container ${rec.config.name} has no recorded create command: cannot recreate it`);
  }
  const wasRunning = rec.state.status === "running" || rec.state.status === "paused";
  const args = rest.filter((a) => a !== "-d" && a !== "--detach" && a !== "--replace");
  await removeById(root, id, { force: true, timeout: rec.config.stopTimeout });
  const run = async (argv: string[]) => {
    const cmd = selfCommand(["--root", root, ...argv]);
    const o = await new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    })
      .output();
    if (o.code !== 0) {
      throw new PodError(`recreating ${rec.config.name}: ${new TextDecoder().decode(o.stderr).trim()}`);
    }
  };
  await run(["create", "--name", rec.config.name, ...args.filter((_, i) => !isNameFlag(args, i))]);
  if (wasRunning) await run(["start", rec.config.name]);
}

/** Whether `args[i]` is (part of) a `--name` flag (the recreated container gets the old name explicitly). */
function isNameFlag(args: string[], i: number): boolean {
  const a = args[i];
  if (a === "--name" || a.startsWith("--name=")) return true;
  return i > 0 && args[i - 1] === "--name";
}

export default defineCommand({
  name: "auto-update",
  usage: "pod auto-update [options]",
  summary: "Auto update containers according to their auto-update policy",
  maxArgs: 0,
  flags: {
    authfile: str("Path to the authentication file"),
    dryRun: bool("Check for pending updates"),
    format: str("Change the output format to JSON or a Go template"),
    rollback: bool("Rollback to previous image if update fails (pod does not roll back)", {
      default: true,
      ignored: true,
    }),
    tlsVerify: bool("Require HTTPS and verify certificates when contacting registries", { default: true }),
  },
  async run(flags, _args, g) {
    const { checkAutoUpdates } = await import("../../container/auto_update.ts");
    const { remoteDigest } = await import("../../image/remote_digest.ts");
    const reg = { tlsVerify: flags.tlsVerify, authFile: flags.authfile };
    const items = await checkAutoUpdates(g.root, (ref) => remoteDigest(ref, reg));
    const rows: {
      Unit: string;
      Container: string;
      ContainerName: string;
      ContainerID: string;
      Image: string;
      Policy: string;
      Updated: string;
    }[] = [];
    let failed: unknown;
    for (const it of items) {
      let updated = it.pending ? (flags.dryRun ? "pending" : "true") : "false";
      if (it.pending && !flags.dryRun) {
        try {
          if (it.policy === "registry") {
            const { pullImage } = await import("../../image/pull.ts");
            await pullImage(g.root, it.image, { ...reg, quiet: true });
          }
          if (it.unit) {
            const user = Deno.uid() === 0 ? [] : ["--user"];
            const o = await new Deno.Command("systemctl", {
              args: [...user, "restart", it.unit],
              stdout: "null",
              stderr: "piped",
            }).output();
            if (o.code !== 0) {
              throw new PodError(`restarting ${it.unit}: ${new TextDecoder().decode(o.stderr).trim()}`);
            }
          } else await recreate(g.root, it.rec.config.id);
        } catch (e) {
          if (failed) printError(failed);
          failed = e;
          updated = "failed";
        }
      }
      rows.push({
        Unit: it.unit ?? "",
        Container: `${it.rec.config.id.slice(0, 12)} (${it.rec.config.name})`,
        ContainerName: it.rec.config.name,
        ContainerID: it.rec.config.id,
        Image: it.image,
        Policy: it.policy,
        Updated: updated,
      });
    }
    if (flags.format) {
      await printFormatted(flags.format, rows, {
        Unit: "UNIT",
        Container: "CONTAINER",
        Image: "IMAGE",
        Policy: "POLICY",
        Updated: "UPDATED",
      });
    } else if (rows.length) {
      printTable(
        ["UNIT", "CONTAINER", "IMAGE", "POLICY", "UPDATED"],
        rows.map((r) => [r.Unit, r.Container, r.Image, r.Policy, r.Updated]),
      );
    }
    if (failed) throw failed;
    return 0;
  },
});
