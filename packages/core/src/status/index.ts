export * from "./machine-history.js";
export * from "./space-status.js";
