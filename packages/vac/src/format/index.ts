export * from "./factories-table.js";
export * from "./machines-table.js";
export * from "./machinetypes-table.js";
export * from "./table.js";
