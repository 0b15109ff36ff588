export * from "./fake-clock.js";
export * from "./require.js";
export * from "./temp-root.js";
