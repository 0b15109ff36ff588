export * from "./sim-config.js";
export * from "./sim-report.js";
export * from "./simulate-space.js";
