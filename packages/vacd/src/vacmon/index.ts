export * from "./vacmon-sender.js";
