export * from "./atomic-write.js";
export * from "./state-store.js";
