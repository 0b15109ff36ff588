export * from "./image-signature-lazy.js";
export * from "./machine-sources.js";
export * from "./make-proxy.js";
export * from "./pipe-cache.js";
export * from "./pipe-refresher.js";
export * from "./remote-sources.js";
export * from "./trust-roots.js";
