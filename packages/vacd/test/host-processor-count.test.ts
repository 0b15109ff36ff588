/**
 * The host's processors as Vac 3.1 counted them for total_processors (S820-838): the lines of
 * /proc/cpuinfo starting `processor\t:`, under the root first, then the host's own.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { makeTempRoot } from "@vac/testkit";
import { countHostProcessors, cpuinfoProcessors, cpuinfoText } from "../src/host/processor-count.js";

test("only `processor\\t:` lines count, as Vac's startswith did (S832)", () => {
  const x86 =
    "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: processor of the year\n\nprocessor\t: 1\n\n";
  assert.equal(cpuinfoProcessors(x86), 2);
  assert.equal(cpuinfoProcessors("processor : 0\n Processor\t: 1\n"), 0, "no tab, or not at the start");
  assert.equal(cpuinfoProcessors(cpuinfoText(7)), 7);
});

test("a root's proc/cpuinfo wins; without one, this host's /proc/cpuinfo is counted", async () => {
  const root = await makeTempRoot("vac-cpuinfo-");
  try {
    const host = await countHostProcessors(root.path);
    assert.equal(host, cpuinfoProcessors(readFileSync("/proc/cpuinfo", "utf8")));
    assert.equal(await countHostProcessors("/"), host);
    await root.write("proc/cpuinfo", cpuinfoText(host + 5));
    assert.equal(await countHostProcessors(root.path), host + 5);
    await root.write("proc/cpuinfo", "garbage\n");
    assert.equal(await countHostProcessors(root.path), host, "a file that lists none is passed over");
  } finally {
    await root.remove();
  }
});
