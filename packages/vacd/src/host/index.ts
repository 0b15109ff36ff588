export * from "./host-facts.js";
export * from "./processor-count.js";
