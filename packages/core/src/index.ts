export * from "./clock.js";
export * from "./config/model.js";
export * from "./errors.js";
export * from "./paths.js";
export * from "./vacquery/messages.js";
