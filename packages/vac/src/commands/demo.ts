import { runDemo } from "../demo/run-demo.js";
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
  run: (args, io) => runDemo(String(args.dir), args.duration as number | undefined, io),
};
