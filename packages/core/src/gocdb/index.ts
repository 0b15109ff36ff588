export * from "./schedule.js";
export * from "./service-endpoint.js";
export * from "./space-values.js";
