import { strict as assert } from "node:assert";
import { readExecFifo } from "../../lib/ns/exec_fifo.ts";

/** A fifo's two ends (stage 2 writes, stage 1 reads), in a temp dir removed by `done`. */
async function fifo(): Promise<{ r: Deno.FsFile; w: Deno.FsFile; done: () => void }> {
  const dir = Deno.makeTempDirSync({ prefix: "pod-fifo-test-" });
  const path = `${dir}/exec.fifo`;
  const made = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.ok(made.success);
  const reading = Deno.open(path, { read: true });
  const w = await Deno.open(path, { write: true });
  return { r: await reading, w, done: () => Deno.removeSync(dir, { recursive: true }) };
}

const enc = new TextEncoder();

/** Stage 2's side: the pid, `prepared`, then (once stage 1's gate failed) `tail` and EOF. */
async function gateFails(tail: string): Promise<{ pid?: number; error?: { code: number; message: string } }> {
  const { r, w, done } = await fifo();
  try {
    await w.write(enc.encode("pid 4242\nprepared\n"));
    return await readExecFifo(r, {}, () => {}, async () => {
      await w.write(enc.encode(tail));
      w.close();
      throw new Error("netavark: the netns is gone");
    });
  } finally {
    done();
  }
}

// the root's build failed while the network gate was pending: the container's own error, not the gate's
Deno.test("readExecFifo: stage 2's own failure wins over a failed gate", async () => {
  const got = await gateFails("125 /dev: a symlink in the image\n");
  assert.deepEqual(got, { pid: 4242, error: { code: 125, message: "/dev: a symlink in the image" } });
});

Deno.test("readExecFifo: a failed gate is the error when stage 2 only answered the abort", async () => {
  await assert.rejects(gateFails("125 stage 1 gave up before starting the process\n"), /netns is gone/);
  await assert.rejects(gateFails("125 stage 1 gave up before sending the process\n"), /netns is gone/);
  await assert.rejects(gateFails(""), /netns is gone/);
});

Deno.test("readExecFifo: pid, prepared, EOF: started", async () => {
  const { r, w, done } = await fifo();
  try {
    await w.write(enc.encode("pid 7\nprepared\n"));
    const got = await readExecFifo(r, {}, () => {}, () => {
      w.close();
      return Promise.resolve();
    });
    assert.deepEqual(got, { pid: 7, error: undefined });
  } finally {
    done();
  }
});
