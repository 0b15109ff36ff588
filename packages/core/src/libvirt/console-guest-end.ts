/**
 * Whether the end of a machine's serial console shows its guest ending by itself: the kernel's
 * last words before a reboot or power-off, or a new BIOS banner after them. Vac's domains (and
 * ours) have on_reboot = destroy (S1921-1923), and libvirt sometimes reports such a reboot
 * only as `Stopped Destroyed`, the event of a domain destroyed from outside: read alone, it
 * would charge the guest's own end to the factory. The console settles it.
 *
 * Only the last lines count: a guest that once printed a reboot line and went on running (a
 * kexec, a message in a job's output) is not taken for one that ended there. The console is
 * the guest's to write, so a guest can claim its own end this way; that only ever moves the
 * blame onto its own machinetype, never off it.
 */

/** How many of the console's last non-empty lines are looked at. */
const LAST_LINES = 3;

/** The kernel's last line before it resets or powers off (kernel/reboot.c), with or without printk times. */
const KERNEL_END = /^(?:<\d>)?(?:\[\s*\d+\.\d+\]\s*)?reboot: (Restarting system|Power down|System halted)\b/;
/** The firmware starting again: a reset that QEMU ran instead of ending the domain. */
const BIOS_BANNER = /^(?:SeaBIOS \(version |iPXE \(|BdsDxe: )/;
/** What firmware prints after its banner, before anything of the guest's. */
const FIRMWARE =
  /^(?:SeaBIOS \(version |iPXE |BdsDxe: |Booting from |Machine UUID |Press ESC |No bootable device)/;

/** Terminal escapes and other controls a console carries, which are not the guest's words. */
const CONTROLS = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]/g;

/**
 * The console line showing that the guest ended by itself (`reboot: Restarting system`), or
 * undefined. `tail` is the end of the console log, as text (invalid bytes may be anywhere).
 * Either the kernel's last line is among the last lines with only firmware output after it, or
 * the last lines are the firmware starting again after the guest had written something (the
 * first boot's banner, with nothing before it, is no reset).
 */
export function consoleShowsGuestEnd(tail: string): string | undefined {
  const all = tail
    .split(/\r?\n|\r/)
    .map((l) => l.replace(CONTROLS, "").trim())
    .filter((l) => l !== "");
  const first = Math.max(0, all.length - LAST_LINES);
  for (let i = all.length - 1; i >= first; i--) {
    const line = all[i] ?? "";
    if (KERNEL_END.test(line)) return line.slice(0, 200);
    if (!FIRMWARE.test(line)) return undefined;
    const before = all.slice(0, i);
    if (BIOS_BANNER.test(line) && before.some((l) => !FIRMWARE.test(l))) return line.slice(0, 200);
  }
  return undefined;
}
