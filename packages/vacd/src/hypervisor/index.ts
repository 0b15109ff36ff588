export * from "./hypervisor.js";
export * from "./process.js";
