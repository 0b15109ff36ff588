/** `vac config check` and `vac config show`: the configuration as vacd would read it. */
import { EXIT, formatConfigProblem, hasErrors } from "@vac/core";
import { loadConfigFromDisk } from "@vac/vacd/client";
import { renderTable } from "../format/table.js";
import type { VacCommand } from "./command.js";
import { configAsRows } from "./config-show.js";

export const configCommand: VacCommand = {
  command: "config <action>",
  describe: "check: validate the configuration files; show: print the effective configuration",
  builder: (y) =>
    y
      .positional("action", { choices: ["check", "show"] as const, describe: "what to do" })
      .option("json", { type: "boolean", default: false, describe: "show: print JSON" })
      .option("factory-name", { type: "string", describe: "check as this factory (default: this host)" }),
  async run(args, io) {
    const hostname = args["factory-name"] as string | undefined;
    const result = await loadConfigFromDisk({ root: args.root, ...(hostname ? { hostname } : {}) });
    if (args.action === "check") {
      for (const p of result.problems) io.out(formatConfigProblem(p));
      const errors = result.problems.filter((p) => p.severity === "error").length;
      const warnings = result.problems.length - errors;
      io.err(
        `${result.files.length} file(s) read: ${errors} error(s), ${warnings} warning(s)` +
          (result.files.length === 0 ? " (no configuration file found)" : ""),
      );
      return hasErrors(result.problems) || result.files.length === 0 ? EXIT.config : EXIT.ok;
    }
    for (const p of result.problems) io.err(formatConfigProblem(p));
    if (!result.config) return EXIT.config;
    const rows = configAsRows(result.config);
    if (args.json) io.out(JSON.stringify(rows, null, 2));
    else
      io.out(
        renderTable(
          [{ header: "Section" }, { header: "Option" }, { header: "Value", max: 40 }, { header: "From" }],
          rows.map((r) => [r.section, r.option, r.value, r.from]),
          { cut: io.tty === true },
        ),
      );
    return EXIT.ok;
  },
};
