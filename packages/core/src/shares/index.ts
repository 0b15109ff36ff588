export * from "./delivered-hours.js";
export * from "./long-term-plan.js";
export * from "./long-term-quarter.js";
export * from "./share-report.js";
export * from "./shares-fragment.js";
