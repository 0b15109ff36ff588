export * from "./census.js";
export * from "./drop-counters.js";
export * from "./poller.js";
export * from "./reply-limiter.js";
export * from "./responder.js";
export * from "./source-policy.js";
export * from "./space-key.js";
export * from "./space-security.js";
