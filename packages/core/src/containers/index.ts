export * from "./cgroup-cpu.js";
export * from "./container-argv.js";
export * from "./shell-words.js";
export * from "./singularity-argv.js";
export * from "./singularity-cgroups.js";
