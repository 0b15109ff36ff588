export * from "./auth.js";
export * from "./codec.js";
export * from "./cookie.js";
export * from "./messages.js";
export * from "./py-json.js";
export * from "./replay-cache.js";
export * from "./responder-view.js";
export * from "./schema.js";
