/**
 * The crash-consistency run (crash-consistency.test.ts) on libvirt: the tiny test guest booted
 * under TCG as `machine_model = kernel`, fewer lives (each a domain booted and powered off), the
 * same kills (after `virsh create`, after an outcome, inside a creation, at random) and the same
 * rules, and no domain of the factory's slots that no unfinished machine records.
 */
import { test } from "node:test";
import { libvirtCrashModel, requireOrSkip, tinyGuest } from "@vac/testkit";
import { crashTest } from "./support/crash-run.js";
import { libvirtDomains } from "./support/libvirt-factory.js";

test("vacd killed at any moment over 10 VM lives leaves no unknown domain and every life accounted once (libvirt)", async (t) => {
  const up = (await libvirtDomains()) !== undefined;
  const guest = up ? await tinyGuest() : undefined;
  if (!requireOrSkip(t, guest !== undefined, "libvirtd with QEMU and the tiny test guest") || !guest) return;
  await crashTest(t, {
    model: libvirtCrashModel(guest),
    factoryName: `cl${process.pid}.vac-test.example`,
    slots: 2,
    lives: 10,
    address: "127.0.0.124",
    // About 1.5 minutes here; a loaded host boots the guest slower, and gets longer, not fewer lives.
    maxSeconds: 240,
    killsAfterSpawn: 1,
    // A guest lives about 8 s: a kill aimed at an outcome may find none in its 5 s.
    killsBeforeAccounting: 0,
  });
});
