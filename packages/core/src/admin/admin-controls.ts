/**
 * The administrator's controls (`vac kill-all`, `vac resume`, `vac shutdown`, `vac drain`): the
 * records `vac` leaves for vacd, their reading (they are files a root command wrote, but read by
 * the daemon every cycle: checked as any outside input), and the outcome a machine the
 * administrator stopped is given. Vac 3.1 had none of these; its administrator edited
 * /var/run/vac.conf by hand to drain (S368-370) and destroyed domains with virsh.
 */

/** The start of the outcome of every machine the factory ended on purpose (as at its shutdowntime). */
const BY_THE_FACTORY = "100 Shutdown as requested by the factory";

/** The outcome of the machines `vac kill-all` destroyed (or that vacd found running while held). */
export const KILL_ALL_REASON = `${BY_THE_FACTORY}: vac kill-all`;

/** The most characters of an administrator's message kept in an outcome. */
const MAX_MESSAGE = 200;

/**
 * The outcome of a machine stopped by `vac shutdown`: the administrator's message after the colon,
 * on one line of printable characters, or a default naming the request. Code 100: the machine
 * did nothing wrong, so its machinetype is never backed off for it.
 */
export function adminShutdownReason(message: string | undefined): string {
  const text = (message ?? "")
    .replace(/[^\x20-\x7e\u00a0-\uffff]+/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, MAX_MESSAGE);
  return `${BY_THE_FACTORY}: ${text || "the administrator's vac shutdown"}`;
}

/** Who set a hold or a drain, and when: `/var/lib/vac/hold`, `/var/lib/vac/drain`. */
export interface AdminMark {
  /** Unix seconds. */
  readonly since: number;
  /** The uid that ran the command. */
  readonly uid: number;
}

/**
 * A machine the administrator asked to stop (`admin_stop` in its directory): by `deadline` it is
 * gone, with `reason` as its outcome; `immediate` destroys it then without asking first (ACPI).
 */
export interface AdminStop {
  readonly time: number;
  readonly uid: number;
  readonly deadline: number;
  readonly reason: string;
  readonly immediate: boolean;
}

const isTime = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x >= 0;
const isUid = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= -1;

function parseJson(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined || text.length > 4096) return undefined;
  try {
    const j: unknown = JSON.parse(text);
    return j !== null && typeof j === "object" && !Array.isArray(j)
      ? (j as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A hold or drain record as written; undefined when it is not one. */
export function parseAdminMark(text: string | undefined): AdminMark | undefined {
  const j = parseJson(text);
  return j && isTime(j.since) && isUid(j.uid) ? { since: j.since, uid: j.uid } : undefined;
}

export function formatAdminMark(mark: AdminMark): string {
  return `${JSON.stringify({ since: Math.floor(mark.since), uid: mark.uid })}\n`;
}

/**
 * A stop request as written; undefined when it is not one. Its reason must be an outcome of
 * code 100 (what `vac` writes): a request cannot make a machine's end count against its type.
 */
export function parseAdminStop(text: string | undefined): AdminStop | undefined {
  const j = parseJson(text);
  if (!j || !isTime(j.time) || !isUid(j.uid) || !isTime(j.deadline) || typeof j.reason !== "string")
    return undefined;
  if (!j.reason.startsWith(`${BY_THE_FACTORY}: `) || j.reason.length > 300) return undefined;
  return {
    time: j.time,
    uid: j.uid,
    deadline: Math.floor(j.deadline),
    reason: adminShutdownReason(j.reason.slice(BY_THE_FACTORY.length + 2)),
    immediate: j.immediate === true,
  };
}

export function formatAdminStop(stop: AdminStop): string {
  return `${JSON.stringify({ ...stop, deadline: Math.floor(stop.deadline) })}\n`;
}
