export * from "./freshness.js";
export * from "./serf-summary.js";
export * from "./start-pacing.js";
