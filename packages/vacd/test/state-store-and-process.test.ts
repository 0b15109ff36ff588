/** The state store on a real temporary root, and the process machine model with real processes. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { vacPaths } from "@vac/core";
import { makeTempRoot } from "@vac/testkit";
import { ProcessHypervisor, processWorkDir } from "../src/hypervisor/process.js";
import { silentLogger } from "../src/log.js";
import { StateStore } from "../src/state/state-store.js";
import { processLaunch } from "./support/process-launch.js";

const run = promisify(execFile);

const NOW = Math.floor(Date.now() / 1000);

async function storeWithMachine(userData = "#!/bin/sh\nexit 0\n") {
  const root = await makeTempRoot();
  const store = new StateStore(vacPaths(root.path));
  await store.init();
  const dir = await store.createMachine({
    created: NOW,
    machinetype: "a",
    slot: "wn01-00.example.com",
    uuid: "uuid-1",
    processors: 1,
    shutdownTime: NOW + 600,
    machinefeatures: { shutdowntime: `${NOW + 600}\n` },
    jobfeatures: { shutdowntime_job: `${NOW + 600}\n` },
    userData: Buffer.from(userData),
  });
  return { root, store, dir };
}

function driver(store: StateStore) {
  return new ProcessHypervisor({ machinesDir: store.paths.machinesDir, logger: silentLogger() });
}

const waitFor = async (probe: () => Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not reached");
};

test("a machine's directory, slot pointer and MJF files are written, and a second store sees the same", async () => {
  const { root, store, dir } = await storeWithMachine();
  try {
    assert.equal(
      await readFile(join(root.path, "var/lib/vac/slots/wn01-00.example.com"), "utf8"),
      `${NOW}_a_wn01-00.example.com\n`,
    );
    assert.equal(await readFile(join(dir, "machinefeatures/shutdowntime"), "utf8"), `${NOW + 600}\n`);
    await store.markStarted(dir, NOW + 1);
    const again = new StateStore(vacPaths(root.path));
    const [m] = await again.snapshot(() => undefined);
    assert.equal(m?.uuid, "uuid-1");
    assert.equal(m?.started, NOW + 1);
    assert.equal(m?.shutdownTime, NOW + 600);
    assert.deepEqual(await store.snapshot(() => undefined), await again.snapshot(() => undefined));
  } finally {
    await root.remove();
  }
});

test("an outcome is recorded exactly once, and finishes/ points at the machine", async () => {
  const { root, store } = await storeWithMachine();
  try {
    const [m] = await store.snapshot(() => undefined);
    assert.ok(m);
    assert.equal(await store.recordFinished(m, NOW + 5, "300 No more work"), true);
    assert.equal(await store.recordFinished(m, NOW + 9, "200 other"), false);
    const [after] = await store.snapshot(() => undefined);
    assert.deepEqual(after?.finished, { time: NOW + 5, message: "300 No more work" });
    // A factory fault is kept as such; a failed start recorded before the flag existed is one.
    const finished = join(m.dir, "finished");
    for (const [text, fault] of [
      [JSON.stringify({ time: 1, message: "500 Machine lost", factory_fault: true }), true],
      [JSON.stringify({ time: 1, message: "500 Failed to start" }), true],
      ["{not json", true],
      [JSON.stringify({ time: 1, message: "500 Site problem" }), undefined],
    ] as const) {
      await writeFile(finished, text);
      // A finished record is read once by a store (state-store-finished-cache.test.ts): a
      // record changed behind its back is read by the next vacd, as here.
      const [again] = await new StateStore(vacPaths(root.path)).snapshot(() => undefined);
      assert.equal(again?.finished?.factoryFault, fault, text);
    }
    assert.equal(await readFile(join(root.path, "var/lib/vac/finishes/a"), "utf8"), `${m.dirName}\n`);
  } finally {
    await root.remove();
  }
});

test("shutdowntime is only ever lowered, and old finished directories are removed", async () => {
  const { root, store, dir } = await storeWithMachine();
  try {
    let [m] = await store.snapshot(() => undefined);
    assert.equal(await store.lowerShutdownTime(m!, NOW + 900), false);
    assert.equal(await store.lowerShutdownTime(m!, NOW + 300), true);
    [m] = await store.snapshot(() => undefined);
    assert.equal(m?.shutdownTime, NOW + 300);
    // Rewritten as Vac rewrote them (D282-290): the value, no newline.
    assert.equal(await readFile(join(dir, "machinefeatures/shutdowntime"), "utf8"), `${NOW + 300}`);
    assert.equal(await readFile(join(dir, "jobfeatures/shutdowntime_job"), "utf8"), `${NOW + 300}`);
    await store.recordFinished(m!, NOW - 5 * 86400, "200 ok");
    [m] = await store.snapshot(() => undefined);
    assert.deepEqual(await store.removeOldMachines([m!], 3, NOW), [], "still in its slot");
    await store.setSlot("wn01-00.example.com", "other");
    assert.deepEqual(await store.removeOldMachines([m!], 3, NOW), [m!.dirName]);
    assert.equal(existsSync(m!.dir), false);
  } finally {
    await root.remove();
  }
});

test("a machine directory name from elsewhere cannot leave machines/", async () => {
  const { root, store } = await storeWithMachine();
  try {
    assert.throws(() => store.machineDir("../../etc"), { code: "VAC_ERR_UNSAFE_NAME" });
    await store.setSlot("x", "y");
    await assert.rejects(store.setSlot("../../evil", "y"), { code: "VAC_ERR_UNSAFE_NAME" });
  } finally {
    await root.remove();
  }
});

test("a process machine reads its MJF, leaves a shutdown message, logs to its console, and stops", async () => {
  const payload = `#!/bin/sh\necho "shutdowntime is $(cat "$MACHINEFEATURES/shutdowntime")"\necho "300 No more work" > "$JOBOUTPUTS/shutdown_message"\n`;
  const { root, store, dir } = await storeWithMachine(payload);
  const hv = driver(store);
  const stopped: string[] = [];
  hv.onMachineStopped((n) => stopped.push(n));
  try {
    await hv.start(processLaunch(dir, payload, { uuid: "uuid-1" }));
    await waitFor(async () => stopped.length === 1);
    assert.equal(await readFile(join(dir, "joboutputs/shutdown_message"), "utf8"), "300 No more work\n");
    assert.equal(await readFile(join(dir, "console.log"), "utf8"), `shutdowntime is ${NOW + 600}\n`);
    const dirs = new Map([["wn01-00.example.com", dir]]);
    await waitFor(async () => (await hv.list(["wn01-00.example.com"], dirs)).length === 0);
  } finally {
    await root.remove();
  }
});

test("destroy kills the whole process group, even a payload that ignores SIGTERM and its children; a new driver adopts running machines; the working directory is outside the machine's record and goes with it", async () => {
  const payload = `#!/bin/sh\ntrap '' TERM\nsleep 300 &\necho $! > "$JOBOUTPUTS/child.pid"\npwd > "$JOBOUTPUTS/cwd"\nwhile true; do sleep 1; done\n`;
  const { root, store, dir } = await storeWithMachine(payload);
  const dirs = new Map([["wn01-00.example.com", dir]]);
  try {
    await driver(store).start(processLaunch(dir, payload, { uuid: "uuid-1" }));
    // The shell creates the file before it writes the line: wait for the whole line.
    const written = async () =>
      (await readFile(join(dir, "joboutputs/cwd"), "utf8").catch(() => "")).endsWith("\n");
    await waitFor(written);
    const cwd = (await readFile(join(dir, "joboutputs/cwd"), "utf8")).trim();
    assert.equal(cwd, processWorkDir(dir));
    assert.ok(!cwd.startsWith(`${dir}/`), "a process machine does not work inside its own record");
    const adopted = driver(store);
    const [running] = await adopted.list(["wn01-00.example.com"], dirs);
    assert.equal(running?.state, "running");
    const child = Number(await readFile(join(dir, "joboutputs/child.pid"), "utf8"));
    await adopted.destroy("wn01-00.example.com", dir);
    assert.equal(existsSync(cwd), false, "the working directory is removed with the machine");
    await waitFor(async () => (await adopted.list(["wn01-00.example.com"], dirs)).length === 0);
    await waitFor(async () => {
      try {
        process.kill(child, 0);
        const stat = await readFile(`/proc/${child}/stat`, "utf8").catch(() => "");
        return stat.includes(") Z ");
      } catch {
        return true;
      }
    });
    await adopted.destroy("wn01-00.example.com", dir);
  } finally {
    await root.remove();
  }
});

test("what a machine leaves in joboutputs is read safely: not through symlinks, not from FIFOs, at most 4 KiB", async () => {
  const { root, store, dir } = await storeWithMachine();
  try {
    const secret = await root.write("secret", "root:$6$hash:19000:0:99999:7:::\n");
    const message = join(dir, "joboutputs/shutdown_message");
    await symlink(secret, message);
    let [m] = await store.snapshot(() => undefined);
    assert.equal(m?.shutdownMessage, undefined, "a symlink is not followed");
    await rm(message);
    await run("mkfifo", [message]);
    const began = Date.now();
    [m] = await store.snapshot(() => undefined);
    assert.equal(m?.shutdownMessage, undefined, "a FIFO is not read");
    assert.ok(Date.now() - began < 2000, "and does not block the snapshot");
    await rm(message);
    await writeFile(message, `300 No more work${" padding".repeat(2_000_000)}`);
    [m] = await store.snapshot(() => undefined);
    assert.match(m?.shutdownMessage ?? "", /^300 No more work/);
    assert.ok((m?.shutdownMessage ?? "").length <= 4096);
  } finally {
    await root.remove();
  }
});
