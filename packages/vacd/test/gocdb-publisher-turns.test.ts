/**
 * vacd's turns (D207-235) on a clock the test moves: the hourly census writes its files, a
 * factory with a certificate makes its GOCDB mark at a random phase and sends once a period,
 * the period grows by N/24 above 24 counted factories, and without the certificate's files
 * nothing is sent.
 */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { test } from "node:test";
import { GOCDB_CERT_SETTINGS, gocdbForTests, requireOrSkip } from "@vac/testkit";
import { GocdbPublisher, gocdbTimingFromEnv, VAC_TIMING } from "../src/gocdb/gocdb-publisher.js";
import { censusDir, gocdbMark, readTimeMark, writeCensusFiles } from "../src/gocdb/space-census-files.js";
import { createLogger } from "../src/log.js";
import { gocdbFactoryRoot } from "./support/gocdb-factory.js";

const g = gocdbForTests({
  prefix: "vac-gocdb-turns-",
  registered: { site: "UKI-TEST", space: "vac.example.org", primaryKey: "77G0" },
  clientDn: "/DC=test/DC=vac/CN=vac01.example.org",
});
const T0 = 1_700_000_000;

const reply = (factory: string, p: number) => ({
  factory,
  wire: { message_type: "factory_status", factory, max_processors: p, max_machines: p, max_hs06: 10 * p },
});

async function factory(certs: boolean, answering = 2) {
  const { root, paths, config } = await gocdbFactoryRoot(g, {
    prefix: "vac-gocdb-turns-root-",
    lines: [`gocdb_api_url = ${g.gocdb.url}`, ...GOCDB_CERT_SETTINGS],
    siteCert: certs,
    trustCa: true,
  });
  const clock = { now: T0 };
  let polls = 0;
  const publisher = new GocdbPublisher({
    paths,
    config: () => config,
    logger: createLogger({ level: "silent" }),
    version: "1.2.3",
    now: () => clock.now,
    random: () => 0.5,
    poll: async () => {
      polls++;
      return [
        reply("vac01.example.org", 2),
        reply("vac02.example.org", 4),
        ...Array.from({ length: answering - 2 }, (_, i) => reply(`vac${i + 10}.example.org`, 1)),
      ];
    },
    timing: { updateSeconds: 100, censusSeconds: 10, tickSeconds: 1 },
  });
  return { root, paths, clock, publisher, polls: () => polls };
}

test("the test knob shortens the day and the hour; unset or nonsense, Vac's day stands", () => {
  assert.deepEqual(gocdbTimingFromEnv({}), VAC_TIMING);
  assert.deepEqual(VAC_TIMING, { updateSeconds: 86_400, censusSeconds: 3_600, tickSeconds: 60 });
  for (const bad of ["", "0", "-5", "soon"])
    assert.deepEqual(gocdbTimingFromEnv({ VAC_TEST_GOCDB_SECONDS: bad }), VAC_TIMING);
  assert.deepEqual(gocdbTimingFromEnv({ VAC_TEST_GOCDB_SECONDS: "48" }), {
    updateSeconds: 48,
    censusSeconds: 2,
    tickSeconds: 2,
  });
  assert.deepEqual(gocdbTimingFromEnv({ VAC_TEST_GOCDB_SECONDS: "6" }), {
    updateSeconds: 6,
    censusSeconds: 1,
    tickSeconds: 1,
  });
});

test("census each hour; the first update at the random phase, then one each period (D207-235)", async (t) => {
  if (!requireOrSkip(t, g.available, "openssl")) return;
  const f = await factory(true);
  t.after(() => f.root.remove());
  const puts = () =>
    g.gocdb.puts().filter((p) => p.path === "/gocdbpi/v5/Service/77/ExtensionProperties").length;
  const start = puts();
  await f.publisher.turn();
  assert.equal(f.polls(), 1, "no census mark: the census is due at once");
  assert.deepEqual((await readdir(censusDir(f.paths))).sort(), ["vac01.example.org", "vac02.example.org"]);
  assert.equal(await readTimeMark(gocdbMark(f.paths)), T0 - 50, "the mark is set back by random() x period");
  assert.equal(puts() - start, 0, "not due until the phase has passed");
  f.clock.now = T0 + 5;
  await f.publisher.turn();
  assert.equal(f.polls(), 1, "the census waits its hour");
  f.clock.now = T0 + 51;
  await f.publisher.turn();
  assert.equal(f.polls(), 2);
  assert.equal(puts() - start, 1, "sent once the phase has passed");
  const body = g.gocdb.puts().at(-1)?.body;
  assert.equal(body?.ComputingManagerTotalPhysicalCPUs, 2);
  assert.equal(body?.ComputingManagerTotalLogicalCPUs, 6);
  assert.equal(body?.BenchmarkValue, 60 * 250);
  assert.equal(body?.ComputingManagerProductVersion, "1.2.3");
  for (const now of [T0 + 70, T0 + 100, T0 + 150]) {
    f.clock.now = now;
    await f.publisher.turn();
  }
  assert.equal(puts() - start, 1, "not again within the period");
  f.clock.now = T0 + 152;
  await f.publisher.turn();
  assert.equal(puts() - start, 1, "due, but GOCDB is looked at only when the census is (D208-213)");
  f.clock.now = T0 + 161;
  await f.publisher.turn();
  assert.equal(puts() - start, 2, "again a period after the last, at the next census");
  assert.equal(await readTimeMark(gocdbMark(f.paths)), T0 + 161);
});

test("above 24 counted factories the period is the day times N/24 (D226-227)", async (t) => {
  if (!requireOrSkip(t, g.available, "openssl")) return;
  const f = await factory(true, 30);
  t.after(() => f.root.remove());
  const puts = () => g.gocdb.puts().length;
  await f.publisher.turn();
  assert.equal(
    await readTimeMark(gocdbMark(f.paths)),
    T0 - 0.5 * 125,
    "the phase is drawn over 100 x 30/24 s",
  );
  const start = puts();
  f.clock.now = T0 - 62.5 + 125 + 1;
  await f.publisher.turn();
  assert.equal(puts() - start, 1);
  assert.equal(g.gocdb.puts().at(-1)?.body?.ComputingManagerTotalPhysicalCPUs, 30);
  f.clock.now += 100 + 11;
  await f.publisher.turn();
  assert.equal(puts() - start, 1, "a day of 100 s is not enough with 30 factories");
  f.clock.now += 20;
  await f.publisher.turn();
  assert.equal(puts() - start, 2, "125 s is");
});

test("old census files are deleted by the census; without the certificate's files nothing is sent or marked (D213-218)", async (t) => {
  if (!requireOrSkip(t, g.available, "openssl")) return;
  const f = await factory(false);
  t.after(() => f.root.remove());
  await writeCensusFiles(f.paths, [reply("gone.example.org", 1), reply("stale.example.org", 1)], T0 - 250);
  await writeCensusFiles(f.paths, [reply("stale.example.org", 1)], T0 - 150);
  const start = g.gocdb.requests.length;
  await f.publisher.turn();
  assert.deepEqual((await readdir(censusDir(f.paths))).sort(), [
    "stale.example.org",
    "vac01.example.org",
    "vac02.example.org",
  ]);
  f.clock.now = T0 + 1000;
  await f.publisher.turn();
  assert.equal(g.gocdb.requests.length - start, 0);
  assert.equal(await readTimeMark(gocdbMark(f.paths)), undefined);
});
