export * from "./space-snapshot.js";
export * from "./status-page.js";
export * from "./status-token.js";
