// Each area has its own barrel (src/AREA/index.ts) so areas can grow without touching this file.
export * from "./accounting/index.js";
export * from "./admin/index.js";

export * from "./census/index.js";
export * from "./clock.js";
export * from "./config/index.js";
export * from "./containers/index.js";
export * from "./decision/index.js";
export * from "./errors.js";
export * from "./gocdb/index.js";
export * from "./libvirt/index.js";
export * from "./lvm/index.js";
export * from "./machine/index.js";
export * from "./paths.js";
export * from "./random.js";
export * from "./shares/index.js";
export * from "./sources/index.js";
export * from "./status/index.js";
export * from "./vacquery/index.js";
