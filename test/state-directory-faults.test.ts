/**
 * A real vacd whose state directory (--root's var/lib/vac) is a small tmpfs of the test's own:
 * nearly full (less than a start needs), read-only (as ext4 leaves it after an I/O error), and
 * full to the last byte. In each, vacd keeps running and answering, starts nothing it could not
 * record, logs why with a code, shows it in factory_status and in its metrics, writes no record
 * in part, and starts again by itself when the directory can record once more. Needs root (to
 * mount); the machines are `process` machines, so no libvirt is involved.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { promisify } from "node:util";
import { requireOrSkip } from "@vac/testkit";
import { LibvirtFactory } from "./support/libvirt-factory.js";

const run = promisify(execFile);
/** The machines' payload, found again by this argument to kill what the test started. */
const PAYLOAD_SECONDS = "3607.25";

async function canMount(t: TestContext): Promise<boolean> {
  const root = process.getuid?.() === 0;
  return requireOrSkip(t, root, "root, to mount a tmpfs as the state directory");
}

/** Every file under `dir` (relative paths). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? "", e.name).slice(dir.length + 1));
}

test("a state directory nearly full, read-only, then full: vacd starts nothing it cannot record, says why, and recovers", async (t) => {
  if (!(await canMount(t))) return;
  const f = await LibvirtFactory.create({
    address: "127.0.0.48",
    cycleSeconds: 1,
    settings: ["metrics_address = 127.0.0.48:0"],
    machinetype: ["machine_model = process", "fizzle_seconds = 0", "backoff_seconds = 0"],
    userData: `#!/bin/sh\nexec sleep ${PAYLOAD_SECONDS}\n`,
  });
  const state = join(f.root, "var/lib/vac");
  const userData = await readFile(join(f.filesDir, "user_data"));
  const mount = (options: string) => run("mount", ["-o", `remount,${options}`, state]);
  let mounted = false;
  let readOnly = false;
  try {
    await run("mount", ["-t", "tmpfs", "-o", "size=8m,mode=755", "vac-test-state", state]);
    mounted = true;
    await mkdir(f.filesDir, { recursive: true });
    await writeFile(join(f.filesDir, "user_data"), userData, { mode: 0o755 });
    const machines = join(state, "machines");
    const status = async () => {
      const { stdout } = await f.vac(["factories", "--json"]);
      return (JSON.parse(stdout) as Record<string, unknown>[])[0] ?? {};
    };
    const metric = async (name: string) => {
      const listening = (await f.events()).find((e) => e.event === "metrics_listening");
      const res = await fetch(`http://127.0.0.48:${listening?.port}/metrics`);
      return (await res.text()).split("\n").filter((l) => l.startsWith(name));
    };
    const eventCount = async (name: string) => (await f.events()).filter((e) => e.event === name).length;
    const started = async () => {
      const dirs = (await readdir(machines).catch(() => [] as string[])).sort();
      const out: string[] = [];
      for (const d of dirs)
        if ((await readFile(join(machines, d, "started"), "utf8").catch(() => "")) !== "") out.push(d);
      return out;
    };
    const nothingHalfWritten = async () => {
      const files = await filesUnder(state);
      assert.deepEqual(
        files.filter((p) => p.endsWith(".tmp")),
        [],
        "no temporary file of an interrupted write is left",
      );
      for (const p of files.filter((x) => x.endsWith("/finished"))) {
        const record = JSON.parse(await readFile(join(state, p), "utf8")) as { message?: unknown };
        assert.equal(typeof record.message, "string", `${p} is whole`);
      }
    };
    /** Ends a machine's payload, as a job that finished. */
    const endMachine = async (dir: string) => {
      const { pid } = JSON.parse(await readFile(join(machines, dir, "process.json"), "utf8")) as {
        pid: number;
      };
      process.kill(pid, "SIGTERM");
    };

    // 1. Nearly full: 8 MiB is less than the 1 GB a start needs.
    f.start();
    const low = await f.waitFor("state_disk_low", 20_000, async () =>
      (await f.events()).find((e) => e.event === "state_disk_low"),
    );
    assert.equal(low.code, "VAC_ERR_STATE_DISK_LOW");
    await f.waitFor("factory_status state_error", 10_000, async () =>
      /^VAC_ERR_STATE_DISK_LOW: .* bytes free/.test(String((await status()).state_error ?? ""))
        ? true
        : undefined,
    );
    assert.deepEqual(await metric("vac_factory_problem{"), [
      'vac_factory_problem{what="state",code="VAC_ERR_STATE_DISK_LOW"} 1',
    ]);
    assert.deepEqual(await readdir(machines).catch(() => []), [], "nothing started");

    // 2. Space returns: vacd says so and starts.
    await mount("size=2g");
    const [first] = await f.waitFor("a machine started", 20_000, async () => {
      const s = await started();
      return s.length > 0 ? s : undefined;
    });
    assert.ok(first);
    assert.equal(await eventCount("state_recovered"), 1);
    assert.equal((await status()).state_error ?? null, null);
    assert.deepEqual(await metric("vac_factory_problem{"), []);

    // 3. Read-only, as a file system remounted after an I/O error; the machine ends meanwhile.
    // (A read-only bind mount over the directory: a remount of the tmpfs itself is refused
    // while the machine's log is open for writing.)
    await run("mount", ["--bind", state, state]);
    readOnly = true;
    await run("mount", ["-o", "remount,bind,ro", state]);
    const ro = await f.waitFor("state_unwritable", 20_000, async () =>
      (await f.events()).find((e) => e.event === "state_unwritable"),
    );
    assert.equal(ro.code, "VAC_ERR_STATE_WRITE");
    assert.match(String(ro.err), /read-only file system|EROFS/i);
    await endMachine(first);
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(f.alive, "vacd keeps running");
    assert.match(String((await status()).state_error), /^VAC_ERR_STATE_WRITE: /);
    assert.deepEqual(await started(), [first], "no machine started without a place for its records");
    await nothingHalfWritten();

    // 4. Writable again: the ended machine's outcome is recorded and the slot refilled.
    await run("umount", [state]);
    readOnly = false;
    const second = await f.waitFor("the slot refilled", 20_000, async () => {
      const s = await started();
      return s.length > 1 ? s.at(-1) : undefined;
    });
    const record = JSON.parse(await readFile(join(machines, first, "finished"), "utf8")) as {
      message: string;
    };
    assert.match(record.message, /^\d{3} /);
    assert.equal(await eventCount("state_recovered"), 2);

    // 5. Full to the last byte (a small size, then a filler): the same, then space returns.
    const { stdout: used } = await run("df", ["--output=used", "-k", state]);
    await mount(`size=${Number(used.split("\n")[1]) + 256}k`);
    await run("dd", ["if=/dev/zero", `of=${join(state, "filler")}`, "bs=4k"]).catch(() => undefined);
    await f.waitFor("state_unwritable with ENOSPC", 20_000, async () =>
      (await f.events()).find(
        (e) => e.event === "state_unwritable" && /ENOSPC|no space/i.test(String(e.err)),
      ),
    );
    await endMachine(String(second));
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(f.alive, "vacd keeps running");
    assert.equal((await started()).length, 2, "nothing started on a full disk");
    await nothingHalfWritten();
    await run("rm", ["-f", join(state, "filler")]);
    await mount("size=2g");
    await f.waitFor("a third machine", 20_000, async () => ((await started()).length > 2 ? true : undefined));
    const finished = JSON.parse(await readFile(join(machines, String(second), "finished"), "utf8")) as {
      message: string;
    };
    assert.match(finished.message, /^\d{3} /);
    assert.equal((await status()).state_error ?? null, null);
    await nothingHalfWritten();
  } finally {
    // Its rm of the root stops at the mount point, removed below.
    await f.stop().catch(() => undefined);
    // Machines outlive vacd, as in Vac: the test ends the ones it started, by their pids.
    const { stdout } = await run("pgrep", ["-f", `sleep ${PAYLOAD_SECONDS}`]).catch(() => ({ stdout: "" }));
    for (const pid of stdout.split("\n").filter(Boolean)) process.kill(Number(pid), "SIGKILL");
    if (readOnly) await run("umount", [state]).catch(() => run("umount", ["-l", state]));
    if (mounted) await run("umount", [state]).catch(() => run("umount", ["-l", state]));
    await run("rm", ["-rf", f.root]);
  }
});
