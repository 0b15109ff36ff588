/**
 * The machine the lifecycle rule tables start from (machinetype "a"): started 990 s ago, past
 * its 600 s fizzle time, heartbeat 30 s old, deadline 1000 s ahead. Each row changes only what
 * its rule reads.
 */
import type { MachineRules, MachineSnapshot } from "../src/index.js";

export const NOW = 1_800_000_000;

export const base: MachineSnapshot = {
  dirName: "x",
  dir: "/x",
  created: NOW - 1000,
  machinetype: "a",
  slot: "wn01-00.example.com",
  uuid: "u",
  processors: 1,
  started: NOW - 990,
  heartbeatTime: NOW - 30,
  heartbeatCpuSeconds: 10,
  shutdownTime: NOW + 1000,
  shutdownMessage: undefined,
  shutdownMessageTime: undefined,
  heartbeatFileTime: undefined,
  destroyReason: undefined,
  finished: undefined,
};

export const rules: MachineRules = {
  fizzleSeconds: 600,
  heartbeatFile: undefined,
  heartbeatSeconds: 0,
  cycleSeconds: 60,
};
