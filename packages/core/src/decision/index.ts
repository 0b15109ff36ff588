export * from "./backoff-until.js";
export * from "./cold-start.js";
export * from "./fill-by-gaps.js";
export * from "./load-check.js";
export * from "./rank-machinetypes.js";
export * from "./shutdown-message.js";
export * from "./superslots.js";
