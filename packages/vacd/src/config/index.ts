export * from "./config-watcher.js";
export * from "./kept-identity-file.js";
export * from "./load-config-from-disk.js";
export * from "./log-config-result.js";
