export * from "./accounting-writer.js";
export * from "./finished-job-from-disk.js";
