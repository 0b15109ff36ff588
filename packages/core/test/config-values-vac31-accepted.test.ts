/**
 * Values as Vac 3.1's readConf took them (S134-740): an option whose value it never read, or
 * compared with one word only, loads with any value, warned and ignored; a total_processors above the host's processors is refused
 * as Vac refused it. The test host has 8 processors (config-load-helpers.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatConfigProblem, OPTION_DEFINITIONS } from "../src/index.js";
import { loadTexts } from "./config-load-helpers.js";

const HEAD = "[settings]\nvac_space = s.example.com\nfactories = wn01.example.com\n";
const MT = "[machinetype a]\ntarget_share = 1\n";
const load = (settings: string, machinetype = "") =>
  loadTexts({ "/r/etc/vac.conf": `${HEAD}${settings}${MT}${machinetype}` });

test("domain_type: a value Vac ignored (S228-229) is warned with file:line and kvm used; kvm and qemu are read", () => {
  const r = load("domain_type = xen\n");
  assert.ok(r.config, JSON.stringify(r.problems));
  assert.equal(r.config.settings.domainType, "kvm");
  assert.deepEqual(
    r.problems.map((p) => [p.severity, p.code, p.file, p.line]),
    [["warning", "VAC_ERR_CONFIG_VALUE_IGNORED", "/r/etc/vac.conf", 4]],
  );
  assert.equal(
    formatConfigProblem(r.problems[0] as never),
    "/r/etc/vac.conf:4: warning VAC_ERR_CONFIG_VALUE_IGNORED: domain_type = 'xen' is ignored and its default used: expected one of kvm, qemu (Vac 3.1 accepted any value here, S228-229)",
  );
  for (const [text, want] of [
    ["qemu", "qemu"],
    ["KVM", "kvm"],
  ]) {
    const ok = load(`domain_type = ${text}\n`);
    assert.equal(ok.config?.settings.domainType, want);
    assert.deepEqual(ok.problems, [], text);
  }
});

test("total_machines and log_machineoutputs: any value loads, as in Vac (S250-251, S675-676)", () => {
  const r = load("total_machines = lots\n", "log_machineoutputs = sometimes\n");
  assert.ok(r.config, JSON.stringify(r.problems));
  assert.equal(r.config.settings.totalMachines, 8, "the default: total_processors");
  assert.equal(r.config.machinetypes[0]?.logMachineoutputs, false);
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.line]),
    [
      ["VAC_ERR_CONFIG_VALUE_IGNORED", 4],
      ["VAC_ERR_CONFIG_VALUE_IGNORED", 7],
    ],
  );
  // A value of the right type still does what it says, and a wrong one elsewhere is still an error.
  assert.equal(load("total_machines = 3\n").config?.settings.totalMachines, 3);
  assert.equal(load("udp_port = lots\n").config, undefined);
});

test("draining, fix_networking, user_data_proxy, legacy_proxy: a word Vac did not look for is its default, warned (S303-307, S368-370, S742-752)", () => {
  // Vac drained only for `yes`, turned fix_networking off only for `false`, made a proxy only for `true`.
  const r = load(
    "draining = maybe\nfix_networking = disabled\n",
    "user_data_proxy = si\nlegacy_proxy = old\n",
  );
  assert.ok(r.config, JSON.stringify(r.problems));
  assert.equal(r.config.settings.draining, false);
  assert.equal(r.config.settings.fixNetworking, true);
  assert.equal(r.config.machinetypes[0]?.userDataProxy, false);
  assert.equal(r.config.machinetypes[0]?.legacyProxy, false);
  assert.deepEqual(
    r.problems.map((p) => [p.severity, p.code, p.line]),
    [
      ["warning", "VAC_ERR_CONFIG_VALUE_IGNORED", 4],
      ["warning", "VAC_ERR_CONFIG_VALUE_IGNORED", 5],
      ["warning", "VAC_ERR_CONFIG_VALUE_IGNORED", 8],
      ["warning", "VAC_ERR_CONFIG_VALUE_IGNORED", 9],
    ],
  );
  assert.match(
    formatConfigProblem(r.problems[0] as never),
    /draining = 'maybe' is ignored .*\(Vac 3\.1 accepted any value here, S368-370\)/,
  );
  // The usual words still say what they mean (true drains, though Vac wanted yes, S369).
  for (const word of ["yes", "true", "on", "1"])
    assert.equal(load(`draining = ${word}\n`).config?.settings.draining, true);
  assert.equal(load("fix_networking = no\n").config?.settings.fixNetworking, false);
});

test("only options Vac 3.1 loaded with any value are lenient", () => {
  assert.deepEqual(
    OPTION_DEFINITIONS.filter((d) => d.vacAcceptedAnyValue !== undefined).map((d) => d.name),
    [
      "total_machines",
      "draining",
      "domain_type",
      "fix_networking",
      "log_machineoutputs",
      "user_data_proxy",
      "legacy_proxy",
      "target_share",
    ],
  );
});

test("total_processors up to the host's processors is taken; above them refused as Vac refused it (S231-245)", () => {
  assert.equal(load("").config?.settings.totalProcessors, 8, "unset: every processor of the host");
  assert.equal(load("total_processors = 8\n").config?.settings.totalProcessors, 8);
  assert.equal(load("total_processors = 3\n").config?.settings.totalProcessors, 3);
  const r = load("total_processors = 12\n");
  assert.equal(r.config, undefined, "an error: nothing is started until it is fixed");
  assert.deepEqual(
    r.problems.map((p) => formatConfigProblem(p)),
    [
      "/r/etc/vac.conf:4: error VAC_ERR_CONFIG_TOO_MANY_PROCESSORS: total_processors = 12 is more than the 8 processors of this host (the processor lines of /proc/cpuinfo): refused, as Vac 3.1 refused it (S231-245)",
    ],
  );
  // vacd runs on the fallback meanwhile, with the host's count standing in.
  assert.equal(r.fallback?.settings.totalProcessors, 8);
  assert.equal(r.fallback?.settings.totalMachines, 8);
  const old = load("cpu_total = 9\n");
  assert.deepEqual(
    old.problems.map((p) => [p.code, p.line]),
    [
      ["VAC_ERR_CONFIG_OLD_NAME", 4],
      ["VAC_ERR_CONFIG_TOO_MANY_PROCESSORS", 4],
    ],
  );
});
