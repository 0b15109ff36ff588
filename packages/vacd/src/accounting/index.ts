export * from "./accounting-writer.js";
export * from "./apel-sync.js";
export * from "./finished-job-from-disk.js";
export * from "./read-delivery-records.js";
