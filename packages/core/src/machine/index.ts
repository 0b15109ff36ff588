export * from "./cloud-metadata.js";
export * from "./context-files.js";
export * from "./derive-machine.js";
export * from "./mjf.js";
export * from "./mjf-urls.js";
export * from "./names.js";
export * from "./old-machines.js";
export * from "./user-data.js";
