export * from "./apply-vacuum-pipes.js";
export * from "./cache-freshness.js";
export * from "./cernvm-signature.js";
export * from "./remote-url.js";
export * from "./vacuum-pipe.js";
