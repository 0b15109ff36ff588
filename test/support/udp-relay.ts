/**
 * The network between the factories of test/space-under-network-faults.test.ts, run inside the
 * relay namespace: `node udp-relay.js PORT DELAY_MS DUPLICATE REPLAY N`. Factory x sits at
 * 10.99.x.2 and sees factory y at 10.99.x.(10+y), an address of this namespace; a socket there
 * forwards what factory x sends, DELAY_MS later, to factory y from 10.99.y.(10+x), where y sees
 * x, and back the same way. So every datagram between two factories crosses this namespace
 * once, comes from the address the receiver lists for the sender, and waits DELAY_MS; with
 * chance DUPLICATE it is sent twice, and with chance REPLAY a datagram that pair sent before
 * follows it (a stale reply, or query, played again). Loss is the kernel's (iptables in this
 * namespace). Prints `ready` once every socket is bound, and runs until killed.
 */
import { createSocket, type Socket } from "node:dgram";

const [port, delayMs, duplicate, replay, n] = process.argv.slice(2).map(Number) as [
  number,
  number,
  number,
  number,
  number,
];
const sockets = new Map<string, Socket>();
const earlier = new Map<string, Buffer[]>();
const at = (x: number, y: number) => `10.99.${x}.${10 + y}`;

function forward(from: number, to: number, msg: Buffer): void {
  const out = sockets.get(`${to}>${from}`);
  if (!out) return;
  const key = `${from}>${to}`;
  const past = earlier.get(key) ?? [];
  const send = (m: Buffer) => setTimeout(() => out.send(m, port, `10.99.${to}.2`), delayMs);
  send(msg);
  if (Math.random() < duplicate) send(msg);
  const stale = past[Math.floor(Math.random() * past.length)];
  if (stale && Math.random() < replay) send(stale);
  earlier.set(key, [...past, msg].slice(-64));
}

const bound: Promise<void>[] = [];
for (let x = 1; x <= n; x++)
  for (let y = 1; y <= n; y++) {
    if (x === y) continue;
    const s = createSocket("udp4");
    sockets.set(`${x}>${y}`, s);
    s.on("message", (msg, rinfo) => {
      if (rinfo.address === `10.99.${x}.2`) forward(x, y, msg);
    });
    bound.push(new Promise((resolve) => s.bind(port, at(x, y), resolve)));
  }
await Promise.all(bound);
process.stdout.write("ready\n");
