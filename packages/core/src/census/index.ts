export * from "./freshness.js";
export * from "./start-pacing.js";
export * from "./serf-summary.js";
