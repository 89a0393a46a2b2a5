import { strict as assert } from "node:assert";

// run7: lib/ns/sleep.ts waits without setTimeout (whose first use loads node:timers, ~15-19 ms of CPU); checked
// in a fresh process whose setTimeout throws, so that a fallback to the timer is seen
Deno.test("sleepMs: waits about the time asked without setTimeout", async () => {
  const url = new URL("../../lib/ns/sleep.ts", import.meta.url).href;
  const code = `
    globalThis.setTimeout = () => { throw new Error("setTimeout used"); };
    const { sleepMs } = await import(${JSON.stringify(url)});
    const t0 = performance.now();
    await sleepMs(1);
    await sleepMs(20);
    console.log(performance.now() - t0);
  `;
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "-q", "--no-config", code],
    env: { DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(o.stderr);
  assert.ok(o.success, err);
  const ms = Number(new TextDecoder().decode(o.stdout).trim());
  assert.ok(ms >= 20, `slept ${ms} ms, asked 21`);
});
