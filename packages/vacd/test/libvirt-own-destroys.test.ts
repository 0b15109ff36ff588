/**
 * The libvirt driver tells its own destroys' `Stopped Destroyed` events from someone else's:
 * the event of a domain vacd destroyed, read after the slot's next machine started, is no
 * evidence against that machine, and an outside destroy of a machine just started is.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { OWN_DESTROY_EVENT_SECONDS, OwnDestroys } from "../src/hypervisor/own-destroys.js";
import { type CommandResult, LibvirtHypervisor, LocalRunner } from "../src/index.js";

const NAME = "wn01-00.example.com";

/** A driver whose virsh answers every command with success, and whose event lines the test writes. */
function driverWithEvents(): { lv: LibvirtHypervisor; emit: (line: string) => void } {
  let onLine: (line: string) => void = () => {};
  const ok: CommandResult = { code: 0, stdout: "", stderr: "" };
  const runner = {
    description: "local",
    run: async () => ok,
    stream: (_argv: readonly string[], line: (l: string) => void) => {
      onLine = line;
      return () => {};
    },
    close: async () => {},
  };
  const lv = new LibvirtHypervisor({
    uri: "qemu:///system",
    runner,
    localRunner: new LocalRunner(),
    timeoutMs: 1000,
  });
  return { lv, emit: (l) => onLine(l) };
}

test("a stop event of a domain the driver destroyed wakes the loop without blaming anyone; the next one is evidence", async () => {
  const { lv, emit } = driverWithEvents();
  const heard: [string, string | undefined][] = [];
  lv.onMachineStopped((name, stop) => heard.push([name, stop?.how]));
  await lv.destroy(NAME, undefined);
  emit(`event 'lifecycle' for domain '${NAME}': Shutdown Finished after host request`);
  emit(`event 'lifecycle' for domain '${NAME}': Stopped Destroyed`);
  // The slot's next machine, destroyed by someone else at once.
  emit(`event 'lifecycle' for domain '${NAME}': Stopped Destroyed`);
  assert.deepEqual(heard, [
    [NAME, undefined],
    [NAME, undefined],
    [NAME, "lost"],
  ]);
  await lv.close();
});

test("a destroy accounts for one stop event, of its own domain, for a bounded time", () => {
  const own = new OwnDestroys();
  own.destroyed("a", 100);
  assert.equal(own.claim("b", 100.1), false, "another domain's event");
  assert.equal(own.claim("a", 100.2), true);
  assert.equal(own.claim("a", 100.3), false, "one event per destroy");
  own.destroyed("a", 200);
  own.destroyed("a", 201);
  assert.equal(own.claim("a", 202), true);
  assert.equal(own.claim("a", 202), true);
  assert.equal(own.claim("a", 202), false);
  own.destroyed("a", 300);
  assert.equal(own.claim("a", 300 + OWN_DESTROY_EVENT_SECONDS), false, "a missed event is not waited for");
});

/** A driver whose `virsh domstats` prints `stdout`. */
function driverPrinting(stdout: string): LibvirtHypervisor {
  const runner = {
    description: "local",
    run: async () => ({ code: 0, stdout, stderr: "" }),
    stream: () => () => {},
    close: async () => {},
  };
  return new LibvirtHypervisor({
    uri: "qemu:///system",
    runner,
    localRunner: new LocalRunner(),
    timeoutMs: 1000,
  });
}

test("virsh domstats printing garbage is the hypervisor not answering, never a list without our machines", async () => {
  const garbage = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) % 256)).toString("latin1");
  await assert.rejects(driverPrinting(garbage).list([NAME]), { code: "VAC_ERR_HYPERVISOR_OUTPUT" });
  assert.deepEqual(await driverPrinting(`Domain: '${NAME}'\n  state.state=1\n`).list([NAME]), [
    { name: NAME, state: "running", cpuSeconds: undefined },
  ]);
});

test("a lost stop whose console ends with the guest's reboot line is the guest's end; other consoles leave it lost", async () => {
  const lv = driverPrinting("");
  const dir = await mkdtemp(join(tmpdir(), "vac-console-"));
  try {
    const lost = { how: "lost" as const, detail: "Stopped Destroyed" };
    assert.deepEqual(await lv.reviewLostStop(dir, lost), lost, "no console log: no evidence");
    await writeFile(join(dir, "console.log"), "tiny guest: running user_data\r\nguest: sleeping\r\n");
    assert.deepEqual(await lv.reviewLostStop(dir, lost), lost);
    await writeFile(
      join(dir, "console.log"),
      `${"x".repeat(100_000)}\r\nguest: rebooting\r\n[    3.860030] reboot: Restarting system\r\n`,
    );
    assert.deepEqual(await lv.reviewLostStop(dir, lost), {
      how: "guest",
      detail: "Stopped Destroyed; the console ends: [    3.860030] reboot: Restarting system",
    });
    // A console log that is a symlink (to a file the guest does not write) is not followed.
    await rm(join(dir, "console.log"));
    await writeFile(join(dir, "elsewhere"), "reboot: Power down\n");
    await symlink(join(dir, "elsewhere"), join(dir, "console.log"));
    assert.deepEqual(await lv.reviewLostStop(dir, lost), lost);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
