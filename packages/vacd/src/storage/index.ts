export * from "./lvm-volumes.js";
export * from "./scratch-volume.js";
