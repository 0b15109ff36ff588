export * from "./rank-machinetypes.js";
export * from "./shutdown-message.js";
