export * from "./command-runner.js";
export * from "./hypervisor.js";
export * from "./hypervisors.js";
export * from "./libvirt.js";
export * from "./machine-hosts.js";
export * from "./machine-network.js";
export * from "./process.js";
export * from "./ssh-runner.js";
