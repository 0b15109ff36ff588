export * from "./apel-job-record.js";
export * from "./apel-sync-record.js";
export * from "./blah-record.js";
export * from "./finished-job.js";
export * from "./pbs-record.js";
