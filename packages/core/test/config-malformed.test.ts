/**
 * Malformed configurations are each rejected with the right code, file and line; what the
 * original Vac ignored (unknown options and sections) or what stays one machinetype's trouble (a
 * missing file) is a warning, and the configuration loads.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadTexts } from "./config-load-helpers.js";

const HEAD = "[settings]\nvac_space = s.example.com\nfactories = wn01.example.com\n";
const MT = "[machinetype a]\ntarget_share = 1\n";

interface Case {
  readonly name: string;
  /** Text of /r/etc/vac.conf; line numbers count from 1. */
  readonly text: string;
  readonly code: string;
  readonly line: number;
  readonly file?: string;
  readonly extra?: Record<string, string>;
  /** A warning: the configuration still loads. */
  readonly warning?: boolean;
}

const CASES: readonly Case[] = [
  { name: "option before any section", text: `x = 1\n${HEAD}${MT}`, code: "VAC_ERR_CONFIG_SYNTAX", line: 1 },
  {
    name: "line without separator",
    text: `${HEAD}just words\n${MT}`,
    code: "VAC_ERR_CONFIG_SYNTAX",
    line: 4,
  },
  {
    name: "unclosed section header",
    text: `${HEAD}[machinetype a\n${MT}`,
    code: "VAC_ERR_CONFIG_SYNTAX",
    line: 4,
  },
  { name: "empty section header", text: `${HEAD}[]\n${MT}`, code: "VAC_ERR_CONFIG_SYNTAX", line: 4 },
  { name: "separator with no name", text: `${HEAD}= 3\n${MT}`, code: "VAC_ERR_CONFIG_SYNTAX", line: 4 },
  {
    name: "continuation after a comment at the top",
    text: `  indented\n${HEAD}${MT}`,
    code: "VAC_ERR_CONFIG_SYNTAX",
    line: 1,
  },
  {
    name: "unknown section",
    text: `${HEAD}${MT}[setings]\nx = 1\n`,
    code: "VAC_ERR_CONFIG_UNKNOWN_SECTION",
    line: 6,
    warning: true,
  },
  {
    name: "machinetype section without name",
    text: `${HEAD}[machinetype]\n${MT}`,
    code: "VAC_ERR_CONFIG_BAD_NAME",
    line: 4,
  },
  {
    name: "unknown settings option",
    text: `${HEAD}draning = yes\n${MT}`,
    code: "VAC_ERR_CONFIG_UNKNOWN_OPTION",
    line: 4,
    warning: true,
  },
  {
    name: "unknown machinetype option",
    text: `${HEAD}${MT}backof_seconds = 3\n`,
    code: "VAC_ERR_CONFIG_UNKNOWN_OPTION",
    line: 6,
    warning: true,
  },
  {
    name: "machinetype option in settings",
    text: `${HEAD}target_share = 1\n${MT}`,
    code: "VAC_ERR_CONFIG_UNKNOWN_OPTION",
    line: 4,
    warning: true,
  },
  {
    name: "unknown option in [factories]",
    text: `${HEAD}${MT}[factories]\nnamez = a\n`,
    code: "VAC_ERR_CONFIG_UNKNOWN_OPTION",
    line: 7,
    warning: true,
  },
  {
    name: "udp_port not a number",
    text: `${HEAD}udp_port = nine\n${MT}`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 4,
  },
  {
    name: "udp_port out of range",
    text: `${HEAD}udp_port = 70000\n${MT}`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 4,
  },
  { name: "udp_port zero", text: `${HEAD}udp_port = 0\n${MT}`, code: "VAC_ERR_CONFIG_BAD_VALUE", line: 4 },
  {
    name: "udp_timeout_seconds zero",
    text: `${HEAD}udp_timeout_seconds = 0\n${MT}`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 4,
  },
  {
    name: "cycle_seconds negative",
    text: `${HEAD}cycle_seconds = -5\n${MT}`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 4,
  },
  {
    name: "total_processors zero",
    text: `${HEAD}total_processors = 0\n${MT}`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 4,
  },
  {
    name: "mb_per_machine not whole",
    text: `${HEAD}mb_per_machine = 2048.5\n${MT}`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 4,
  },
  {
    name: "overload_per_processor zero",
    text: `${HEAD}overload_per_processor = 0\n${MT}`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 4,
  },
  {
    name: "hs06 not a number",
    text: `${HEAD}hs06_per_processor = fast\n${MT}`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 4,
  },
  {
    // Vac 3.1 only looked whether domain_type was there (S228-229): any value loaded.
    name: "domain_type unknown",
    text: `${HEAD}domain_type = xen\n${MT}`,
    code: "VAC_ERR_CONFIG_VALUE_IGNORED",
    line: 4,
    warning: true,
  },
  {
    name: "total_machines not a number",
    text: `${HEAD}total_machines = lots\n${MT}`,
    code: "VAC_ERR_CONFIG_VALUE_IGNORED",
    line: 4,
    warning: true,
  },
  {
    // Vac 3.1 refused it (S239-245); the test host has 8 processors.
    name: "total_processors above the host's processors",
    text: `${HEAD}total_processors = 9\n${MT}`,
    code: "VAC_ERR_CONFIG_TOO_MANY_PROCESSORS",
    line: 4,
  },
  {
    name: "cpu_total above the host's processors",
    text: `${HEAD}cpu_total = 64\n${MT}`,
    code: "VAC_ERR_CONFIG_TOO_MANY_PROCESSORS",
    line: 4,
  },
  {
    name: "shutdown_time not a time",
    text: `${HEAD}shutdown_time = tomorrow\n${MT}`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 4,
  },
  {
    name: "vac_space not a name",
    text: `[settings]\nvac_space = my space!\nfactories = wn01.example.com\n${MT}`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 2,
  },
  {
    name: "factories entry with bad port",
    text: `[settings]\nvac_space = s.example.com\nfactories = wn01.example.com wn02:99999\n${MT}`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 3,
  },
  {
    name: "factory_addresses without =",
    text: `${HEAD}factory_addresses = wn01.example.com\n${MT}`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 4,
  },
  {
    name: "target_share negative",
    text: `${HEAD}[machinetype a]\ntarget_share = -1\n`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 5,
  },
  {
    name: "target_share in [targetshares] not a number",
    text: `${HEAD}${MT}[targetshares]\na = lots\n`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 7,
  },
  {
    name: "backoff_seconds not whole",
    text: `${HEAD}${MT}backoff_seconds = 1.5\n`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 6,
  },
  {
    name: "max_wallclock_seconds zero",
    text: `${HEAD}${MT}max_wallclock_seconds = 0\n`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 6,
  },
  {
    name: "min_wallclock above max",
    text: `${HEAD}${MT}max_wallclock_seconds = 100\nmin_wallclock_seconds = 200\n`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 7,
  },
  {
    name: "min_processors above max",
    text: `${HEAD}${MT}min_processors = 4\n`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 6,
  },
  {
    name: "machine_model unknown",
    text: `${HEAD}${MT}machine_model = lxc\n`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 6,
  },
  {
    // Vac 3.1 only looked whether it was there (S675-676).
    name: "log_machineoutputs not a boolean",
    text: `${HEAD}${MT}log_machineoutputs = sometimes\n`,
    code: "VAC_ERR_CONFIG_VALUE_IGNORED",
    line: 6,
    warning: true,
  },
  {
    name: "heartbeat_file with a slash",
    text: `${HEAD}${MT}heartbeat_file = ../../etc/passwd\n`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 6,
  },
  {
    name: "heartbeat_file naming the machine directory itself",
    text: `${HEAD}${MT}heartbeat_file = ..\n`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 6,
  },
  {
    name: "network that is none of the forms",
    text: `${HEAD}${MT}network = bridge:br0;reboot\n`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 6,
  },
  {
    name: "hypervisor_timeout_seconds of zero",
    text: `${HEAD}hypervisor_timeout_seconds = 0\n${MT}`,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 4,
  },
  {
    name: "machinetype name with a dot",
    text: `${HEAD}[machinetype lhcb.prod]\ntarget_share = 1\n`,
    code: "VAC_ERR_CONFIG_BAD_NAME",
    line: 4,
  },
  {
    name: "machinetype name with underscore",
    text: `${HEAD}[vmtype lhcb_prod]\ntarget_share = 1\n`,
    code: "VAC_ERR_CONFIG_BAD_NAME",
    line: 4,
  },
  {
    name: "machinetype name ending in hyphen",
    text: `${HEAD}[machinetype lhcb-]\ntarget_share = 1\n`,
    code: "VAC_ERR_CONFIG_BAD_NAME",
    line: 4,
  },
  {
    name: "machinetype name with a path",
    text: `${HEAD}[machinetype ../x]\ntarget_share = 1\n`,
    code: "VAC_ERR_CONFIG_BAD_NAME",
    line: 4,
  },
  {
    name: "factories does not name this host",
    text: `[settings]\nvac_space = s.example.com\nfactories = wn02.example.com\n${MT}`,
    code: "VAC_ERR_CONFIG_FACTORY_NOT_LISTED",
    line: 3,
    warning: true,
  },
  {
    name: "user_data escapes its directory",
    text: `${HEAD}${MT}user_data = ../../../../../../etc/shadow\n`,
    code: "VAC_ERR_CONFIG_PATH_ESCAPES",
    line: 6,
  },
  {
    name: "user_data_file escapes its directory",
    text: `${HEAD}${MT}user_data_file_cert = ../../b/files/cert\n`,
    code: "VAC_ERR_CONFIG_PATH_ESCAPES",
    line: 6,
  },
  {
    name: "root_image does not exist",
    text: `${HEAD}${MT}root_image = cernvm.iso\n`,
    code: "VAC_ERR_CONFIG_FILE_MISSING",
    line: 6,
    warning: true,
  },
  {
    name: "prolog does not exist",
    text: `${HEAD}${MT}prolog = /var/lib/vac/prolog.sh\n`,
    code: "VAC_ERR_CONFIG_FILE_MISSING",
    line: 6,
    warning: true,
  },
  {
    name: "an error in a drop-in file names that file",
    text: HEAD + MT,
    code: "VAC_ERR_CONFIG_BAD_VALUE",
    line: 2,
    file: "/r/etc/vac.d/10-shares.conf",
    extra: { "/r/etc/vac.d/10-shares.conf": "[machinetype a]\nbackoff_seconds = high\n" },
  },
];

test(`at least 30 malformed configurations (${CASES.length} here)`, () => {
  assert.ok(CASES.length >= 30);
});

for (const c of CASES) {
  test(`${c.warning ? "warned" : "rejected"}: ${c.name}`, () => {
    const files = { ...(c.extra ?? {}), "/r/etc/vac.conf": c.text };
    const r = loadTexts(files);
    const errors = r.problems.filter((p) => p.severity === (c.warning ? "warning" : "error"));
    if (c.warning)
      assert.ok(r.config, `a warning leaves the configuration usable: ${JSON.stringify(r.problems)}`);
    else assert.equal(r.config, undefined, "no configuration comes out of a file with errors");
    const found = errors.find((p) => p.code === c.code);
    assert.ok(found, `expected ${c.code}, got ${JSON.stringify(errors)}`);
    assert.equal(found.file, c.file ?? "/r/etc/vac.conf");
    assert.equal(found.line, c.line);
    assert.ok(found.message.startsWith(`${found.file}:${found.line}: `), found.message);
  });
}

test("missing vac_space and factories are reported", () => {
  const r = loadTexts({ "/r/etc/vac.conf": MT });
  assert.deepEqual(
    r.problems.filter((p) => p.code === "VAC_ERR_CONFIG_MISSING_OPTION").map((p) => p.message),
    [
      "configuration: required option 'vac_space' is not set in [settings]",
      "configuration: required option 'factories' is not set in [settings]",
    ],
  );
});

test("every problem is reported in one run, in file and line order", () => {
  const r = loadTexts({
    "/r/etc/vac.conf": `${HEAD}udp_port = x\ndraning = 1\n[machinetype B_d]\n[machinetype a]\ntarget_share = -2\nbackoff_seconds = soon\n[shares]\n`,
  });
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.line]),
    [
      ["VAC_ERR_CONFIG_BAD_VALUE", 4],
      ["VAC_ERR_CONFIG_UNKNOWN_OPTION", 5],
      ["VAC_ERR_CONFIG_BAD_NAME", 6],
      ["VAC_ERR_CONFIG_BAD_VALUE", 8],
      ["VAC_ERR_CONFIG_BAD_VALUE", 9],
      ["VAC_ERR_CONFIG_UNKNOWN_SECTION", 10],
      ["VAC_ERR_CONFIG_NO_SHARES", 0],
    ],
  );
});

test("all shares zero is a warning, not an error", () => {
  const r = loadTexts({ "/r/etc/vac.conf": `${HEAD}[machinetype a]\ntarget_share = 0\n` });
  assert.ok(r.config);
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.severity]),
    [["VAC_ERR_CONFIG_NO_SHARES", "warning"]],
  );
});

test("did you mean: a near miss is suggested, a far one is not", () => {
  const near = loadTexts({ "/r/etc/vac.conf": `${HEAD}udp_prot = 9\n${MT}` });
  assert.match(near.problems[0]?.message ?? "", /did you mean 'udp_port'\?/);
  const far = loadTexts({ "/r/etc/vac.conf": `${HEAD}colour = blue\n${MT}` });
  assert.doesNotMatch(far.problems[0]?.message ?? "", /did you mean/);
});
