export * from "./share-report.js";
