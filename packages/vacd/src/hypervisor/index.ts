export * from "./hypervisor.js";
