// Each area has its own barrel (src/AREA/index.ts) so areas can grow without touching this file.
export * from "./accounting/index.js";
export * from "./config/index.js";
export * from "./context/index.js";
export * from "./factory/index.js";
export * from "./gocdb/index.js";
export * from "./host/index.js";
export * from "./http/index.js";
export * from "./hypervisor/index.js";
export * from "./log.js";
export * from "./metrics/index.js";
export * from "./net/index.js";
export * from "./simulator/index.js";
export * from "./sources/index.js";
export * from "./state/index.js";
export * from "./status/index.js";
export * from "./storage/index.js";
export * from "./vacmon/index.js";
