export * from "./hypervisor/hypervisor.js";
