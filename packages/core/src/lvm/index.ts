export * from "./lvm-report.js";
export * from "./volume-size.js";
