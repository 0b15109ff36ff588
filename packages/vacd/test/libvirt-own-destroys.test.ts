/**
 * The libvirt driver tells its own destroys' `Stopped Destroyed` events from someone else's:
 * the event of a domain vacd destroyed, read after the slot's next machine started, is no
 * evidence against that machine, and an outside destroy of a machine just started is.
 */
import assert from "node:assert/strict";
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
