/**
 * Requests per second the MJF server holds for `GET /machinefeatures/NAME` (a machine lookup
 * from its source address, the slot file, one bounded file read) and for `PUT /joboutputs/NAME`
 * (output-limit walk, streamed temporary file, rename), against a bare node:http server that
 * answers the same bytes from memory, in the same run: 8 keep-alive clients from one machine
 * address (its in-flight limit) for 3 s each. Needs nothing but loopback addresses.
 */
import { Agent, createServer, request } from "node:http";
import { vacPaths } from "@vac/core";
import { makeTempRoot } from "@vac/testkit";
import { createLogger, MachineHttpServer, machineLookup, mjfHandler, StateStore } from "@vac/vacd";

const SERVER = "127.0.0.70";
const MACHINE = "127.0.0.71";
// One machine may have 8 requests in progress (HTTP_LIMITS.perMachineInFlight); more get 503.
const CLIENTS = 8;
const SECONDS = 3;

async function load(
  port: number,
  path: string,
  method: "GET" | "PUT",
): Promise<{ rps: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS, localAddress: MACHINE });
  const end = performance.now() + SECONDS * 1000;
  let done = 0;
  let errors = 0;
  const body = "300 No more work\n";
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request(
        {
          host: SERVER,
          port,
          path,
          method,
          agent,
          headers: method === "PUT" ? { "Content-Length": Buffer.byteLength(body) } : {},
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            if ((res.statusCode ?? 0) >= 300) errors++;
            resolve();
          });
        },
      );
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end(method === "PUT" ? body : undefined);
    });
  const t = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end) {
        await one();
        done++;
      }
    }),
  );
  agent.destroy();
  return { rps: done / ((performance.now() - t) / 1000), errors };
}

const root = await makeTempRoot("vac-bench-mjf-");
const store = new StateStore(vacPaths(root.path));
await store.init();
const now = Math.floor(Date.now() / 1000);
await store.createMachine({
  created: now,
  machinetype: "bench",
  slot: "wn01-00.example.com",
  uuid: "uuid-bench",
  processors: 1,
  shutdownTime: now + 3600,
  machinefeatures: { hs06: "10\n" },
  jobfeatures: {},
  userData: Buffer.from("#!/bin/sh\n"),
});
const mjf = new MachineHttpServer({
  name: "mjf",
  lookup: machineLookup({
    store,
    factoryName: () => "wn01.example.com",
    totalMachines: () => 1,
    slotOf: (a) => (a === MACHINE ? 0 : undefined),
  }),
  handler: mjfHandler({ maxOutputBytes: () => 1024 * 1024 * 1024 }),
  logger: createLogger({ level: "silent" }),
});
const mjfPort = await mjf.start(SERVER, 0);
const bare = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(req.method === "PUT" ? 201 : 200, { "Content-Type": "text/plain", "Content-Length": 3 });
    res.end("10\n");
  });
});
const barePort = await new Promise<number>((resolve) =>
  bare.listen(0, SERVER, () => resolve((bare.address() as { port: number }).port)),
);

try {
  console.log(`${CLIENTS} keep-alive clients, ${SECONDS} s each        req/s   errors   vs bare node:http`);
  for (const [label, path, method] of [
    ["GET /machinefeatures/hs06", "/machinefeatures/hs06", "GET"],
    ["PUT /joboutputs/shutdown_message", "/joboutputs/shutdown_message", "PUT"],
  ] as const) {
    const b = await load(barePort, path, method);
    const m = await load(mjfPort, path, method);
    console.log(
      `  bare node:http ${label.padEnd(34)} ${b.rps.toFixed(0).padStart(7)} ${String(b.errors).padStart(8)}`,
    );
    console.log(
      `  MJF server     ${label.padEnd(34)} ${m.rps.toFixed(0).padStart(7)} ${String(m.errors).padStart(8)}   ${(m.rps / b.rps).toFixed(2)}x`,
    );
  }
} finally {
  await mjf.close();
  await new Promise((r) => bare.close(r));
  await root.remove();
}
