export * from "./admin-controls.js";
export * from "./draining-override.js";
export * from "./squid-conf.js";
