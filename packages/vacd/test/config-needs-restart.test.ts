/** A reload that changes a setting vacd reads only as it starts says so, instead of seeming applied. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig, type VacConfig, vacPaths } from "@vac/core";
import { logNeedsRestart } from "../src/config/log-config-result.js";
import type { Logger } from "../src/log.js";

function config(settings: string): VacConfig {
  const r = loadConfig({
    files: [
      {
        path: "/etc/vac.conf",
        text: `[settings]\nvac_space = s.example.com\nfactories = wn01.example.com\n${settings}[machinetype a]\ntarget_share = 1\nmachine_model = process\nuser_data = /bin/true\n`,
      },
    ],
    paths: vacPaths("/"),
    hostname: "wn01.example.com",
    hostProcessors: 2,
    fileExists: () => true,
  });
  assert.ok(r.config, JSON.stringify(r.problems));
  return r.config;
}

test("udp_port, udp_bind_address, metrics_address and factory_name changed by a reload are logged as needing a restart", () => {
  type Line = { event: string; option: string; in_force: unknown; configured: unknown };
  const lines: Line[] = [];
  const logger = { warn: (o: Line) => lines.push(o) } as unknown as Logger;
  const started = config("udp_port = 995\n");
  logNeedsRestart(logger, started, config("udp_port = 995\ncycle_seconds = 30\n"));
  assert.equal(lines.length, 0, "cycle_seconds applies at once");
  logNeedsRestart(
    logger,
    started,
    config(
      "udp_port = 996\nudp_bind_address = 10.0.0.1\nmetrics_address = 127.0.0.1:9100\nfactory_name = wn02.example.com\n",
    ),
  );
  assert.deepEqual(
    lines.map((l) => [l.event, l.option, l.in_force, l.configured]),
    [
      ["config_needs_restart", "udp_port", 995, 996],
      ["config_needs_restart", "udp_bind_address", "0.0.0.0", "10.0.0.1"],
      ["config_needs_restart", "metrics_address", null, "127.0.0.1:9100"],
      ["config_needs_restart", "factory_name", "wn01.example.com", "wn02.example.com"],
    ],
  );
});
