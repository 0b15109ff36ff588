export * from "./fake-clock.js";
export * from "./fake-hypervisor.js";
export * from "./host-lock.js";
export * from "./require.js";
export * from "./sshd.js";
export * from "./temp-root.js";
export * from "./tiny-guest.js";
