export * from "./admin-files.js";
export * from "./atomic-write.js";
export * from "./factory-files.js";
export * from "./machine-store.js";
export * from "./memory-state-store.js";
export * from "./output-size.js";
export * from "./state-store.js";
