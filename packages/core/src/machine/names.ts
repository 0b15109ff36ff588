import { createHash } from "node:crypto";

/** Slot N of `wn01.example.com` is `wn01-NN.example.com` (two digits from 00). */
export function slotName(factoryName: string, n: number): string {
  const dot = factoryName.indexOf(".");
  const host = dot < 0 ? factoryName : factoryName.slice(0, dot);
  const domain = dot < 0 ? "" : factoryName.slice(dot);
  return `${host}-${String(n).padStart(2, "0")}${domain}`;
}

/** Whether `name` is one of this factory's slot names (`wn01-NN.example.com` for `wn01.example.com`). */
export function isSlotName(factoryName: string, name: string): boolean {
  const dot = factoryName.indexOf(".");
  const host = dot < 0 ? factoryName : factoryName.slice(0, dot);
  const domain = dot < 0 ? "" : factoryName.slice(dot);
  return (
    name.length > host.length + 1 + domain.length &&
    name.startsWith(`${host}-`) &&
    name.endsWith(domain) &&
    /^\d+$/.test(name.slice(host.length + 1, name.length - domain.length))
  );
}

/** `56:4d` ("VM") and four bytes unique to the slot; locally administered, unicast. */
export function slotMacAddress(slot: string): string {
  const bytes = createHash("sha256").update(slot).digest().subarray(0, 4);
  return ["56", "4d", ...[...bytes].map((b) => b.toString(16).padStart(2, "0"))].join(":");
}

const DIR_NAME = /^(\d{9,11})_([a-z0-9]([a-z0-9-]*[a-z0-9])?)_([A-Za-z0-9][A-Za-z0-9.-]{0,252})$/;

/** `machines/<created>_<machinetype>_<slot>`. */
export function machineDirName(created: number, machinetype: string, slot: string): string {
  return `${Math.floor(created)}_${machinetype}_${slot}`;
}

/** The parts of a machine directory's name, or undefined for anything else found there. */
export function parseMachineDirName(
  name: string,
): { created: number; machinetype: string; slot: string } | undefined {
  const m = DIR_NAME.exec(name);
  if (!m || m[4]?.includes("..")) return undefined;
  return { created: Number(m[1]), machinetype: m[2] ?? "", slot: m[4] ?? "" };
}
