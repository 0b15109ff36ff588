export * from "./factory-metrics.js";
export * from "./metrics-server.js";
