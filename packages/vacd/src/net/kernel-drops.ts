/**
 * Datagrams the kernel dropped before vacd saw them: each UDP socket's `drops` in
 * /proc/net/udp, which counts those that found its receive queue full. During a flood that is
 * most of them, so the responder adds them to its drop counts (`queue_full`), where an
 * administrator sees the rest: the log line, `factory_status` and the metrics.
 */
import { readFile } from "node:fs/promises";

/**
 * The drops of every socket bound to local port `port` in /proc/net/udp's text: the responder's
 * main socket and its lanes (peer-lanes.ts). Lines that are not as the kernel writes them count
 * nothing.
 */
export function udpDropsOnPort(text: string, port: number): number {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let drops = 0;
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st ... inode ref pointer drops
    if (fields.length < 13 || !fields[1]?.endsWith(hexPort)) continue;
    const n = Number(fields[fields.length - 1]);
    if (Number.isSafeInteger(n) && n >= 0) drops += n;
  }
  return drops;
}

/** The drops on `port` now, or undefined where /proc/net/udp cannot be read. */
export async function readUdpDrops(port: number, path = "/proc/net/udp"): Promise<number | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  return text === undefined ? undefined : udpDropsOnPort(text, port);
}
