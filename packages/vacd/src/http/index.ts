export * from "./machine-http-server.js";
export * from "./machine-lookup.js";
export * from "./machine-services.js";
export * from "./metadata-routes.js";
export * from "./mjf-routes.js";
