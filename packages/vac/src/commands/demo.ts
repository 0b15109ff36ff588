import type { VacCommand } from "./command.js";

export const demoCommand: VacCommand = {
  command: "demo",
  describe: "run a demo space of three factories on this machine (process machines; Ctrl-C stops it)",
  builder: (y) =>
    y
      .option("dir", {
        type: "string",
        default: "demo-space",
        describe: "directory for the demo's factories and queues",
      })
      .option("duration", { type: "number", describe: "stop after this many seconds" }),
  // Loaded when the demo runs: it brings vacd's modules (bench/README.md, restart-answers-machines).
  run: async (args, io) =>
    (await import("../demo/run-demo.js")).runDemo(String(args.dir), args.duration as number | undefined, io),
};
