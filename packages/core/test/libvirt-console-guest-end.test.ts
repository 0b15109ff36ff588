import assert from "node:assert/strict";
import { test } from "node:test";
import { consoleShowsGuestEnd } from "../src/index.js";

/** The tiny test guest's console, captured on libvirt 9 / QEMU 7 after `reboot -f` (on_reboot destroy). */
const TINY_GUEST_BOOT = [
  "tiny guest: booted kernel 6.1.0-57-amd64",
  "tiny guest: loaded 16 modules",
  "tiny guest: mounted 9p machinefeatures at /etc/machinefeatures (ro)",
  "tiny guest: mounted 9p jobfeatures at /etc/jobfeatures (ro)",
  "tiny guest: mounted 9p joboutputs at /etc/machineoutputs (rw)",
  "tiny guest: mounted context ISO at /mnt/context",
  "tiny guest: running user_data",
];
const crlf = (lines: readonly string[]) => `${lines.join("\r\n")}\r\n`;
const CAPTURED_REBOOT = crlf([
  ...TINY_GUEST_BOOT,
  "guest: rebooting",
  "[    3.860030] reboot: Restarting system",
]);

test("a console ending with the kernel's reboot or power-off line shows the guest's own end", () => {
  assert.equal(consoleShowsGuestEnd(CAPTURED_REBOOT), "[    3.860030] reboot: Restarting system");
  const ends: [string, string][] = [
    ["[  812.004411] reboot: Power down", "[  812.004411] reboot: Power down"],
    ["reboot: Restarting system", "reboot: Restarting system"],
    ["[    1.5] reboot: System halted", "[    1.5] reboot: System halted"],
    // Colours and a prompt's escape codes around it are not the guest's words.
    ["\x1b[0m\x1b[?25h[   9.1] reboot: Power down\x1b[0m", "[   9.1] reboot: Power down"],
  ];
  for (const [last, shown] of ends)
    assert.equal(consoleShowsGuestEnd(crlf([...TINY_GUEST_BOOT, last])), shown, JSON.stringify(last));
  // Only the firmware may follow the kernel's line (a reset QEMU ran instead of ending the domain).
  assert.equal(
    consoleShowsGuestEnd(
      `${CAPTURED_REBOOT}SeaBIOS (version 1.16.2-debian-1.16.2-1)\r\nBooting from ROM...\r\n`,
    ),
    "SeaBIOS (version 1.16.2-debian-1.16.2-1)",
  );
});

test("the firmware starting again after the guest had run shows a reset; the first boot's banner does not", () => {
  const reset = crlf([...TINY_GUEST_BOOT, "guest: working", "SeaBIOS (version 1.16.2-debian-1.16.2-1)"]);
  assert.equal(consoleShowsGuestEnd(reset), "SeaBIOS (version 1.16.2-debian-1.16.2-1)");
  const firstBoot = crlf(["SeaBIOS (version 1.16.2-debian-1.16.2-1)", "Booting from Hard Disk..."]);
  assert.equal(consoleShowsGuestEnd(firstBoot), undefined);
});

test("a console that goes on after a reboot line, or never shows one, is no evidence", () => {
  const cases = [
    "",
    "\r\n\r\n",
    crlf(TINY_GUEST_BOOT),
    crlf([...TINY_GUEST_BOOT, "guest: sleeping"]),
    // The guest's line long before its end: it went on running.
    crlf([...TINY_GUEST_BOOT, "[ 3.8] reboot: Restarting system", "a", "b", "c"]),
    // Words inside a line, not the kernel's line.
    crlf([...TINY_GUEST_BOOT, "job says: reboot: Restarting system"]),
    crlf([...TINY_GUEST_BOOT, "rebooting soon"]),
    // Random bytes, as a crashed guest may leave.
    Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString("latin1"),
  ];
  for (const tail of cases)
    assert.equal(consoleShowsGuestEnd(tail), undefined, JSON.stringify(tail.slice(-80)));
});
