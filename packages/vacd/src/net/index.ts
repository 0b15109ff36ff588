export * from "./poller.js";
export * from "./responder.js";
