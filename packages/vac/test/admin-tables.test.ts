/**
 * What `vac machinetypes`, `vac machines` and `vac factories` print from replies (Vac 3.1's own
 * golden datagrams, decoded): a machinetype in backoff is listed with its end, computed by the
 * decision's own rule; a factory without its hypervisor says so; every line fits 80 columns.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeMessage, type FactoryStatus, type MachinetypeStatus, type Reply } from "@vac/core";
import { vac31Text } from "@vac/testkit";
import type { Argv } from "yargs";
import { missingArguments } from "../src/commands/missing-arguments.js";
import { backoffsOf, formatFactories, formatMachinetypes, renderTable } from "../src/format/index.js";

const decode = <T extends Reply>(fixture: string, replace: Record<string, unknown>) => {
  const d = decodeMessage(vac31Text(fixture, replace));
  assert.ok(d.ok, "the golden datagram decodes");
  return d.message as T;
};

const NOW = 1_800_000_000;
const cmd = (command: string) => ({ command, describe: "", builder: (y: Argv) => y, run: async () => 0 });
const RULES = new Map([
  ["lhcb", { backoffSeconds: 600, fizzleSeconds: 300 }],
  ["atlas", { backoffSeconds: 600, fizzleSeconds: 300 }],
]);

test("a machinetype is listed in backoff until its last abort plus backoff_seconds (plus fizzle_seconds while one is young), as the decision rules (D149-152)", () => {
  const cases = [
    { abortAgo: 100, young: 0, until: NOW - 100 + 600 },
    { abortAgo: 100, young: 1, until: NOW - 100 + 600 + 300 },
    { abortAgo: 700, young: 1, until: NOW - 700 + 900 },
    { abortAgo: 700, young: 0, until: undefined },
    { abortAgo: 901, young: 1, until: undefined },
  ];
  for (const c of cases) {
    const lhcb = decode<MachinetypeStatus>("machinetype_status_abort", {
      machinetype: "lhcb",
      shutdown_time: NOW - c.abortAgo,
      shutdown_message: "300 No more work",
      num_before_fizzle: c.young,
    });
    const backoffs = backoffsOf([lhcb], RULES, NOW);
    assert.equal(backoffs.get("lhcb"), c.until, JSON.stringify(c));
    const text = formatMachinetypes([lhcb], new Map(), NOW, backoffs);
    assert.equal(/In backoff: lhcb until /.test(text), c.until !== undefined, text);
  }
});

test("a 200 outcome or an unknown machinetype puts nothing in backoff", () => {
  const ok = decode<MachinetypeStatus>("machinetype_status_abort", {
    machinetype: "lhcb",
    shutdown_time: NOW - 10,
    shutdown_message: "200 Intended work completed ok",
  });
  const other = decode<MachinetypeStatus>("machinetype_status_abort", {
    machinetype: "cms",
    shutdown_time: NOW - 10,
  });
  assert.equal(backoffsOf([ok, other], RULES, NOW).size, 0);
});

test("vac factories marks a factory without its hypervisor and says why on a line of its own, in 80 columns", () => {
  const down = {
    ...decode<FactoryStatus>("factory_status", { factory: "a-rather-long-factory-name.example.org" }),
    hypervisorError: "libvirt (qemu:///system): hypervisor libvirt cannot be reached: socket",
  };
  const up = decode<FactoryStatus>("factory_status", { factory: "wn2.example.org" });
  const text = formatFactories([down, up], NOW);
  assert.match(text.split("\n")[1] ?? "", /^a-rather-long-factory-nam~ .* !$/, "its row is marked");
  assert.match(text, /! a-rather-long-factory-name\.example\.org: hypervisor unavailable: libvirt/);
  assert.doesNotMatch(text.split("\n").find((l) => l.startsWith("wn2")) ?? "", /hypervisor/);
  for (const line of text.split("\n").slice(0, 3)) assert.ok(line.length <= 80, line);
});

test("vac factories marks a factory whose state directory stops its starts, and says why", () => {
  const full = {
    ...decode<FactoryStatus>("factory_status", { factory: "wn1.example.org" }),
    stateError: "/var/lib/vac has 1048576 bytes free, less than the 1000000000 a start needs",
  };
  const text = formatFactories([full], NOW);
  assert.match(text.split("\n")[1] ?? "", /!$/);
  assert.match(text, /! wn1\.example\.org: state directory: \/var\/lib\/vac has 1048576 bytes free/);
});

test("a table cuts long cells for a terminal and keeps them whole for a pipe", () => {
  const long = "x".repeat(60);
  assert.match(renderTable([{ header: "V", max: 20 }], [[long]]), /x{19}~/);
  assert.match(renderTable([{ header: "V", max: 20 }], [[long]], { cut: false }), new RegExp(long));
});

test("a missing positional argument is named from the command's usage", () => {
  const commands = [cmd("machinetype <name> [factory..]"), cmd("config <action>")];
  const msg = "Not enough non-option arguments: got 0, need at least 1";
  assert.equal(
    missingArguments(msg, ["--root", "/x", "machinetype"], commands),
    "missing NAME: vac machinetype <name> [factory..]",
  );
  assert.equal(missingArguments(msg, ["config"], commands), "missing ACTION: vac config <action>");
  assert.equal(missingArguments("Unknown argument: x", ["config"], commands), undefined);
});
