/**
 * How long a Vac 3 image waits for its user_data: from libvirt having started the domain (the
 * end of `virsh create`) to the metadata server answering the guest's `GET /latest/user-data`,
 * and on to its `PUT joboutputs/shutdown_message`, over 5 boots of the tiny test guest under
 * TCG on vacd's own machine network (isolated: no forwarding) with vacd's own servers. Most of
 * it is the guest's kernel and init under emulation, then its DHCP exchange. Needs root and
 * libvirtd; takes the host lock the machine network tests take.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { METADATA_ADDRESS, MJF_ADDRESS, slotName } from "@vac/core";
import { hostLock, tinyGuest } from "@vac/testkit";
import {
  createLogger,
  LibvirtHypervisor,
  LocalRunner,
  MachineHttpServer,
  MachineNetwork,
  machineLookup,
  machineNetworkSpec,
  metadataHandler,
  mjfHandler,
} from "@vac/vacd";
import { createMachineDir, tinyGuestFactory } from "./support/tiny-guest-factory.js";

const RUNS = 5;
const guest = await tinyGuest();
if (!guest || process.getuid?.() !== 0) {
  console.log("machine-network-boot: SKIPPED, needs root and the tiny test guest");
  process.exit(0);
}
const lock = await hostLock("vac-test-machine-network");
const tag = randomBytes(3).toString("hex");
const factory = `bench${tag}.vac-test.example`;
const { root, config, mt, store } = await tinyGuestFactory(guest, {
  rootPrefix: "vac-bench-net-",
  factory,
  settings: [
    "total_processors = 1",
    "mb_per_processor = 256",
    "disk_gb_per_processor = 1",
    `machine_network_name = vac-bench-${tag}`,
    `machine_network_bridge = vb${tag}`,
    "machine_network_forward = none",
  ],
  network: "vac",
  cmdlineExtra: " vac.net=dhcp",
});
const local = new LocalRunner();
const network = new MachineNetwork({ runner: local, uri: "qemu:///system", timeoutMs: 60_000 });
const lv = new LibvirtHypervisor({
  uri: "qemu:///system",
  runner: local,
  localRunner: local,
  timeoutMs: 60_000,
});
const logger = createLogger({ level: "silent" });
const lookup = machineLookup({ store, factoryName: () => factory, totalMachines: () => 1 });
let served: (() => void) | undefined;
let reported: (() => void) | undefined;
const metadata = new MachineHttpServer({
  name: "metadata",
  lookup,
  logger,
  handler: async (req, m) => {
    const reply = await metadataHandler({
      factoryName: () => factory,
      rootPublicKeyFile: () => "/nonexistent",
    })(req, m);
    if (req.url === "/latest/user-data") served?.();
    return reply;
  },
});
const mjf = new MachineHttpServer({
  name: "mjf",
  lookup,
  logger,
  handler: async (req, m) => {
    const reply = await mjfHandler({ maxOutputBytes: () => 1 << 30 })(req, m);
    if (req.url === "/joboutputs/shutdown_message") reported?.();
    return reply;
  },
});

const USER_DATA = `#!/bin/sh
echo "guest: user_data running"
req() { printf '%s %s HTTP/1.0\\r\\nHost: %s\\r\\nContent-Length: %s\\r\\n\\r\\n%s' "$1" "$3" "$2" "\${#4}" "$4" | nc -w 5 "$2" 80 >/dev/null; }
req GET ${METADATA_ADDRESS} /latest/user-data ""
req PUT ${MJF_ADDRESS} /joboutputs/shutdown_message "300 No more work"
`;

const rows: { toUserData: number; toReport: number; leased: boolean }[] = [];
try {
  const check = await network.check(machineNetworkSpec(config.settings), true);
  if (!check.ready) throw new Error(`machine network not ready: ${check.actions.join("; ")}`);
  await metadata.start(METADATA_ADDRESS, 80);
  await mjf.start(MJF_ADDRESS, 80);
  for (let i = 0; i < RUNS; i++) {
    const slot = slotName(factory, 0);
    const uuid = randomUUID();
    const now = Date.now() / 1000 + i; // a new machine directory each run
    const userData = Buffer.from(USER_DATA);
    const dir = await createMachineDir(store, {
      factory,
      machinetype: mt.name,
      slot,
      uuid,
      memoryMb: 256,
      now,
      userData,
    });
    const gotUserData = new Promise<number>((r) => {
      served = () => r(performance.now());
    });
    const gotReport = new Promise<number>((r) => {
      reported = () => r(performance.now());
    });
    await lv.start({
      name: slot,
      uuid,
      slot: 0,
      machinetype: mt,
      settings: config.settings,
      dir,
      processors: 1,
      memoryMb: 256,
      shutdownTime: now + 3600,
      userData,
    });
    const t0 = performance.now();
    const timeout = new Promise<number>((_, reject) =>
      setTimeout(() => reject(new Error("no request in 120 s")), 120_000).unref(),
    );
    const t1 = await Promise.race([gotUserData, timeout]);
    const t2 = await Promise.race([gotReport, timeout]);
    const console = await readFile(join(dir, "console.log"), "utf8").catch(() => "");
    rows.push({
      toUserData: t1 - t0,
      toReport: t2 - t0,
      leased: /tiny guest: network: 169\.254\.169\.0\//.test(console),
    });
    await lv.destroy(slot, dir);
  }
} finally {
  await lv.destroy(slotName(factory, 0), undefined).catch(() => undefined);
  await metadata.close();
  await mjf.close();
  await network.remove({ name: `vac-bench-${tag}` });
  await lv.close();
  await root.remove();
  await lock.release();
}
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const med = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)] ?? 0;
const fmt = (xs: number[]) =>
  `median ${(med(xs) / 1000).toFixed(2)} s, min ${((sorted(xs)[0] ?? 0) / 1000).toFixed(2)} s, max ${((sorted(xs).at(-1) ?? 0) / 1000).toFixed(2)} s`;
console.log(`${RUNS} boots of the tiny guest under TCG on an isolated machine network:`);
console.log(`  domain started -> user-data served        ${fmt(rows.map((r) => r.toUserData))}`);
console.log(`  domain started -> shutdown_message PUT    ${fmt(rows.map((r) => r.toReport))}`);
console.log(`  boots that logged their DHCP lease        ${rows.filter((r) => r.leased).length}/${RUNS}`);
