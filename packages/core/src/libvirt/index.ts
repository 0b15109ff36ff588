export * from "./console-guest-end.js";
export * from "./domain-xml.js";
export * from "./lifecycle-event.js";
export * from "./machine-hosts.js";
export * from "./network-xml.js";
export * from "./virsh-output.js";
export * from "./xml-writer.js";
