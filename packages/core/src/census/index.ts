export * from "./freshness.js";
export * from "./start-pacing.js";
