export * from "./fake-clock.js";
export * from "./fake-hypervisor.js";
export * from "./https-server.js";
export * from "./require.js";
export * from "./sshd.js";
export * from "./temp-root.js";
export * from "./test-pki.js";
export * from "./tiny-guest.js";
