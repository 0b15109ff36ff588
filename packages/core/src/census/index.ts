export * from "./freshness.js";
