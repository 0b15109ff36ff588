/**
 * /var/lib/vac/factory-error, as Vac kept it for its Nagios check (D472-480): a failed machine
 * start writes why, and the next machine started removes it. A fake hypervisor and a fake
 * clock over a real state directory.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { readFactoryFiles } from "../src/index.js";
import { BASE_CONF, cycleAfter, loopRig } from "./support/loop-rig.js";

const CONF = BASE_CONF.replace("fizzle_seconds = 60", "backoff_seconds = 5");

test("a failed start writes factory-error with its reason; the next machine started removes it", async (t) => {
  const r = await loopRig(CONF);
  t.after(async () => {
    await r.loop.stop();
    await r.root.remove();
  });
  const { hv, loop, stateDir } = r;

  hv.failNextStart = new Error("virsh create failed:\n  no space left on device");
  await loop.runCycle();
  const text = await readFile(join(stateDir, "factory-error"), "utf8");
  assert.equal(text, "LM creation fails with: virsh create failed: no space left on device\n");
  assert.equal((await readFactoryFiles(stateDir)).error?.message, text.trim());

  // After the backoff the slot is tried again, and this time the machine starts. The loop
  // may wait on the fake clock within a cycle (a probe's random pause): time moves meanwhile.
  for (let i = 0; i < 20 && hv.domains.size === 0; i++) await cycleAfter(r, 60);
  assert.equal(hv.domains.size, 1, `no machine started: ${hv.calls.join(", ")}`);
  assert.equal((await readFactoryFiles(stateDir)).error, undefined, "factory-error is still there");
});
