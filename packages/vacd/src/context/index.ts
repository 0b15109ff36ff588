export * from "./context-iso.js";
export * from "./machine-key.js";
