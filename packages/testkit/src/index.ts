export * from "./fake-clock.js";
export * from "./fake-hypervisor.js";
export * from "./require.js";
export * from "./sshd.js";
export * from "./temp-root.js";
export * from "./tiny-guest.js";
export * from "./vac31-receiver-rules.js";
export * from "./vac31-wire.js";
