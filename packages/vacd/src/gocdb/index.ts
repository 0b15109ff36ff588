export * from "./gocdb-client.js";
export * from "./gocdb-publisher.js";
export * from "./gocdb-update.js";
export * from "./space-census-files.js";
