/**
 * vacd's metadata and MJF servers for one machine, run by a test inside a network namespace (as
 * `ip netns exec NS node metadata-server-process.js ROOT SLOT`): ROOT's vac.conf is loaded as
 * vacd loads it, the machine in slot SLOT is prepared as vacd prepares one (MJF files, user_data
 * after substitutions, its slot pointer), given an own public key where the libvirt driver
 * writes it, and the servers are the ones MachineServices builds, bound to 169.254.169.254:80
 * and 169.254.169.253:80 on the namespace's bridge. What it did goes to stdout as one JSON line;
 * SIGTERM closes the servers.
 */
import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { METADATA_ADDRESS, MJF_ADDRESS, slotName, vacPaths } from "@vac/core";
import {
  createLogger,
  LocalRunner,
  loadConfigFromDisk,
  MachineServices,
  prepareMachine,
  StateStore,
} from "@vac/vacd";

const [root, slotArg] = process.argv.slice(2);
if (!root || !slotArg) throw new Error("usage: metadata-server-process ROOT SLOT");
const slotIndex = Number(slotArg);
const loaded = await loadConfigFromDisk({ root });
const config = loaded.config;
if (!config) throw new Error(`vac.conf: ${JSON.stringify(loaded.problems)}`);
const machinetype = config.machinetypes[0];
if (!machinetype) throw new Error("vac.conf has no machinetype");
const logger = createLogger({ level: "warn" });
const store = new StateStore(vacPaths(root));
await store.init();
const uuid = randomUUID();
const now = Date.now() / 1000;
const launch = await prepareMachine(
  {
    store,
    clock: {
      now: () => Date.now() / 1000,
      monotonic: () => performance.now() / 1000,
      setTimer: () => () => {},
    },
    logger,
    version: "test",
    uuid,
  },
  {
    config,
    machinetype,
    slot: slotName(config.settings.factoryName, slotIndex),
    slotIndex,
    processors: 1,
    shutdownTime: Math.floor(now) + 3600,
  },
);
const ownKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMachineOwnKeyForTheTest root@machine";
await mkdir(join(launch.dir, "ssh"), { recursive: true });
await writeFile(join(launch.dir, "ssh/id_ed25519.pub"), `${ownKey}\n`);
const runner = new LocalRunner();
const services = new MachineServices({ config: () => config, store, logger, runner });
await services.metadata.start(METADATA_ADDRESS, 80);
await services.mjf.start(MJF_ADDRESS, 80);
process.stdout.write(`${JSON.stringify({ uuid, dir: launch.dir, slot: launch.name, ownKey })}\n`);
process.on("SIGTERM", () => {
  void services
    .close()
    .then(() => runner.close())
    .then(() => process.exit(0));
});
