// The shell that waits for a new user namespace's maps must not reset its effective uid when the maps land
// between its getuid() and geteuid() (dash then switched to the namespace's nobody: CI failure of cp keep-id).
import { strictEqual } from "node:assert/strict";
import { SYNC_SHELL } from "../../lib/ns/userns.ts";

Deno.test({
  name: "userns: the sync shell keeps its effective uid when it differs from the real one",
  ignore: Deno.uid() !== 0,
  async fn() {
    // real uid nobody, effective uid root: what dash sees when the uid map is written as it starts
    const out = await new Deno.Command("setpriv", {
      args: ["--ruid", "65534", "--euid", "0", "--", ...SYNC_SHELL, "id -u"],
      stdout: "piped",
    }).output();
    strictEqual(new TextDecoder().decode(out.stdout), "0\n");
  },
});
