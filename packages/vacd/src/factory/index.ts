export * from "./backoff-timing.js";
export * from "./factory-deps.js";
export * from "./factory-loop.js";
export * from "./prepare-machine.js";
export * from "./status-view.js";
