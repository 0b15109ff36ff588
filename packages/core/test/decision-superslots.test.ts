/**
 * Superslots (vacd D360-470): where the next machine goes and how big it is, as a table of
 * cases, a property, and a simulation of a space of 32-processor factories over days of fake
 * time, where 1- and 8-processor machinetypes both get their shares.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  decideMachinetype,
  loadConfig,
  type Placement,
  placeInSuperslot,
  type RunningMachine,
  type SuperslotMachinetype,
  vacPaths,
} from "../src/index.js";
import { input, local, mt, NOW, settings, status } from "./decision-fixtures.js";

const type = (name: string, over: Partial<SuperslotMachinetype> = {}): SuperslotMachinetype => ({
  name,
  minProcessors: 1,
  maxProcessors: 1,
  minWallclockSeconds: 86400,
  maxWallclockSeconds: 86400,
  ...over,
});
/** Vac's defaults but max_processors 8. */
const flex = type("flex", { maxProcessors: 8 });
/** Sites that use superslots set min_wallclock_seconds. */
const flexMin = type("flex", { maxProcessors: 8, minWallclockSeconds: 3600 });
const single = type("single", { minWallclockSeconds: 3600 });
const octo = type("octo", { minProcessors: 8, maxProcessors: 8, minWallclockSeconds: 3600 });
const on = (processors: number, shutdownTime: number): RunningMachine => ({ processors, shutdownTime });

test("rule: a machine joins the earliest incomplete superslot that fits, else begins a new one (D420-462)", () => {
  // [case, processors_per_superslot, total_processors, running, ranked, Vac's placement (= ours)]
  type Row = [string, number, number, RunningMachine[], SuperslotMachinetype[], string];
  const table: Row[] = [
    ["superslots of 1, max_processors 8: a 1-processor machine", 1, 32, [], [flex], "flex 1 new +86400"],
    ["superslots of 8, empty factory: 8 processors", 8, 32, [], [flex], "flex 8 new +86400"],
    [
      "never more than processors_per_superslot",
      8,
      32,
      [],
      [type("big", { maxProcessors: 16 })],
      "big 8 new +86400",
    ],
    ["never more than are free", 8, 5, [], [flex], "flex 5 new +86400"],
    // Defaults: min_wallclock_seconds = max_wallclock_seconds, so an incomplete superslot whose
    // life has begun is never joined, and the 5 processors it lacks stay idle (D438-441, S694).
    [
      "defaults: an incomplete superslot is not refilled",
      8,
      32,
      [on(8, NOW + 100), on(8, NOW + 200), on(8, NOW + 300), on(3, NOW + 50000)],
      [flex],
      "none",
    ],
    [
      "min_wallclock_seconds set: it is refilled with what it lacks",
      8,
      32,
      [on(8, NOW + 100), on(8, NOW + 200), on(8, NOW + 300), on(3, NOW + 50000)],
      [flexMin],
      "flex 5 existing +50000",
    ],
    [
      "the earliest incomplete superslot first",
      8,
      32,
      [on(1, NOW + 5000), on(1, NOW + 4000)],
      [flexMin],
      "flex 7 existing +4000",
    ],
    // Less than min_wallclock_seconds left: its 7 are held, a new superslot takes 8 of the other 24.
    [
      "too little life left: held, a new superslot",
      8,
      32,
      [on(1, NOW + 1000)],
      [flexMin],
      "flex 8 new +86400",
    ],
    // More life left than max_wallclock_seconds (D440): not joined.
    [
      "more life left than max_wallclock_seconds",
      8,
      32,
      [on(1, NOW + 90000)],
      [flexMin],
      "flex 8 new +86400",
    ],
    // Rank order within a superslot, but filling superslots comes first: the 8-processor type
    // ranks first, cannot fit in the 7 lacking, and the 1-processor type takes them.
    [
      "an incomplete superslot before rank",
      8,
      32,
      [on(1, NOW + 50000)],
      [octo, single],
      "single 1 existing +50000",
    ],
    [
      "complete superslots: the 8-processor type",
      8,
      32,
      [on(8, NOW + 50000)],
      [octo, single],
      "octo 8 new +86400",
    ],
    // Two superslots with one end: 16 is two complete ones, 9 lacks 7 (modulo, D424).
    [
      "two identical complete superslots",
      8,
      32,
      [on(8, NOW + 50000), on(8, NOW + 50000)],
      [octo, single],
      "octo 8 new +86400",
    ],
    [
      "two identical superslots, one incomplete",
      8,
      32,
      [on(8, NOW + 50000), on(1, NOW + 50000)],
      [octo, single],
      "single 1 existing +50000",
    ],
    // Only 4 free and all held by the incomplete superslot: the 8-processor type never fits.
    [
      "what a superslot lacks is held for it",
      8,
      12,
      [on(8, NOW + 100), on(4, NOW + 1000)],
      [octo, single],
      "none",
    ],
    ["min_processors above the superslot size", 4, 32, [], [octo], "none"],
    ["no eligible machinetype", 8, 32, [], [], "none"],
  ];
  const show = (p: Placement) =>
    p.machinetype === undefined
      ? "none"
      : `${p.machinetype} ${p.processors} ${p.superslot} +${p.shutdownTime - NOW}`;
  for (const [name, per, total, running, ranked, vac] of table) {
    const p = placeInSuperslot({
      processorsPerSuperslot: per,
      totalProcessors: total,
      running,
      ranked,
      now: NOW,
    });
    assert.equal(show(p), vac, name);
    if (p.machinetype === undefined) assert.ok(p.why.length > 0, `${name}: says why`);
  }
});

test("rule: the decision uses the superslots, and a machine in a superslot is capped by shutdown_time", () => {
  const s8 = settings({ processorsPerSuperslot: 8, totalProcessors: 32, totalMachines: 32 });
  const multi = mt("a", 1, { maxProcessors: 8 });
  const d = decideMachinetype(
    input({ settings: s8, machinetypes: [multi], local: local({ hostProcessors: 32 }) }),
  );
  assert.deepEqual(d.chosen, {
    machinetype: "a",
    processors: 8,
    shutdownTime: NOW + 86400,
    superslot: "new",
  });
  const one = decideMachinetype(input({ machinetypes: [multi] }));
  assert.equal(one.chosen?.processors, 1, "with superslots of 1 Vac starts a 1-processor machine");
  const capped = decideMachinetype(
    input({
      settings: { ...s8, shutdownTime: NOW + 7200 },
      machinetypes: [mt("a", 1, { maxProcessors: 8, minWallclockSeconds: 3600 })],
      local: local({ hostProcessors: 32 }),
    }),
  );
  assert.equal(capped.chosen?.shutdownTime, NOW + 7200);
  const none = decideMachinetype(
    input({
      settings: s8,
      machinetypes: [mt("a", 1, { minProcessors: 8, maxProcessors: 8 })],
      running: [on(4, NOW + 100), on(24, NOW + 200)],
      local: local({ hostProcessors: 32, processorsInUse: 28, machinesInUse: 2 }),
    }),
  );
  assert.equal(none.chosen, undefined);
  assert.match(none.unplaced ?? "", /4 held for the superslot ending at/);
});

test("rule: superslots of more than 1 without min_wallclock_seconds are warned about at load", () => {
  const loaded = (settingsLines: string, mtLines: string) =>
    loadConfig({
      files: [
        {
          path: "/etc/vac.conf",
          text: `[settings]\nvac_space = s.example.com\nfactories = wn01.example.com\nfactory_name = wn01.example.com\n${settingsLines}\n[machinetype a]\ntarget_share = 1\n${mtLines}\n[machinetype off]\ntarget_share = 0\n`,
        },
      ],
      paths: vacPaths("/r"),
      hostname: "wn01.example.com",
      hostProcessors: 8,
      fileExists: () => true,
    });
  const load = (settingsLines: string, mtLines: string) =>
    loaded(settingsLines, mtLines).problems.filter((p) => p.code === "VAC_ERR_CONFIG_SUPERSLOT_NOT_REFILLED");
  const warned = load("processors_per_superslot = 8", "");
  assert.equal(warned.length, 1, "one warning, for the machinetype with a share");
  assert.equal(warned[0]?.severity, "warning");
  assert.equal(warned[0]?.line, 5, "at the processors_per_superslot line");
  assert.match(warned[0]?.message ?? "", /\[machinetype a\] sets no min_wallclock_seconds/);
  assert.equal(load("processors_per_superslot = 8", "min_wallclock_seconds = 3600").length, 0);
  assert.equal(load("processors_per_superslot = 1", "").length, 0);
  assert.equal(load("", "").length, 0);
  // The old names set it too (S342-348).
  for (const old of ["cpu_per_machine", "vcpu_per_machine"]) {
    assert.equal(loaded(`${old} = 4`, "").config?.settings.processorsPerSuperslot, 4, old);
    assert.equal(load(`${old} = 4`, "").length, 1, `${old}: warned likewise`);
  }
});

test("property: never more processors than are free, and a machine joining a superslot shares its end", () => {
  const runningArb = fc.array(
    fc.record({
      processors: fc.integer({ min: 1, max: 8 }),
      shutdownTime: fc.constantFrom(...[1, 2, 3, 4].map((h) => NOW + h * 3600)),
    }),
    { maxLength: 12 },
  );
  const typeArb = fc.record({
    min: fc.integer({ min: 1, max: 8 }),
    extra: fc.integer({ min: 0, max: 8 }),
    minWall: fc.integer({ min: 0, max: 5 * 3600 }),
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 0, max: 40 }),
      runningArb,
      fc.array(typeArb, { maxLength: 4 }),
      (per, spare, running, types) => {
        const ranked = types.map((t, i) =>
          type(`t${i}`, {
            minProcessors: t.min,
            maxProcessors: t.min + t.extra,
            minWallclockSeconds: t.minWall,
            maxWallclockSeconds: 5 * 3600,
          }),
        );
        const inUse = running.reduce((n, m) => n + m.processors, 0);
        const total = inUse + spare;
        const p = placeInSuperslot({
          processorsPerSuperslot: per,
          totalProcessors: total,
          running,
          ranked,
          now: NOW,
        });
        if (p.machinetype === undefined) return true;
        const m = ranked.find((t) => t.name === p.machinetype) as SuperslotMachinetype;
        const ends = new Set(running.map((r) => r.shutdownTime));
        return (
          p.processors <= spare &&
          p.processors <= per &&
          p.processors >= m.minProcessors &&
          p.processors <= m.maxProcessors &&
          (p.superslot === "existing"
            ? ends.has(p.shutdownTime)
            : p.shutdownTime === NOW + m.maxWallclockSeconds)
        );
      },
    ),
  );
});

/**
 * A space of 32-processor factories over days of fake time: every 60 s cycle each factory
 * decides over the whole space's census and starts at most one machine; machines end at their
 * shutdown time or earlier when their jobs run out. Returns each machinetype's processor-seconds.
 */
function simulate(per: number, days: number): { used: Map<string, number>; capacity: number } {
  const FACTORIES = 3;
  const PROCESSORS = 32;
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const machinetypes = [
    mt("single", 1, { minWallclockSeconds: 3600 }),
    mt("octo", 1, { minProcessors: 8, maxProcessors: 8, minWallclockSeconds: 3600 }),
  ];
  const s = settings({ processorsPerSuperslot: per, totalProcessors: PROCESSORS, totalMachines: PROCESSORS });
  type Machine = { machinetype: string; processors: number; shutdownTime: number; endsAt: number };
  const factories: Machine[][] = Array.from({ length: FACTORIES }, () => []);
  const used = new Map(machinetypes.map((m) => [m.name, 0]));
  const start = NOW;
  const warmup = 86400;
  for (let now = start; now < start + days * 86400; now += 60) {
    for (let f = 0; f < FACTORIES; f++) {
      factories[f] = (factories[f] ?? []).filter((m) => m.endsAt > now);
    }
    for (let f = 0; f < FACTORIES; f++) {
      const mine = factories[f] ?? [];
      const census = factories.flatMap((ms) =>
        machinetypes.map((t) => {
          const of = ms.filter((m) => m.machinetype === t.name);
          const processors = of.reduce((n, m) => n + m.processors, 0);
          return status(t.name, { runningProcessors: processors, runningHs06: processors });
        }),
      );
      const processorsInUse = mine.reduce((n, m) => n + m.processors, 0);
      const d = decideMachinetype(
        input({
          settings: s,
          machinetypes,
          census,
          local: local({ processorsInUse, machinesInUse: mine.length, hostProcessors: PROCESSORS }),
          running: mine,
          now,
          random,
        }),
      );
      const c = d.chosen;
      if (!c) continue;
      // Jobs run out after 2 to 30 hours, or the machine lives to its shutdown time.
      const endsAt = Math.min(c.shutdownTime, now + 7200 + Math.floor(random() * 28 * 3600));
      mine.push({
        machinetype: c.machinetype,
        processors: c.processors,
        shutdownTime: c.shutdownTime,
        endsAt,
      });
    }
    if (now >= start + warmup) {
      for (const ms of factories)
        for (const m of ms) used.set(m.machinetype, (used.get(m.machinetype) ?? 0) + 60 * m.processors);
    }
  }
  return { used, capacity: FACTORIES * PROCESSORS * 60 * ((days * 86400 - warmup) / 60) };
}

test("1- and 8-processor machinetypes of equal shares on 32-processor factories both reach their shares", () => {
  const { used, capacity } = simulate(8, 5);
  const single = used.get("single") ?? 0;
  const octo = used.get("octo") ?? 0;
  const share = (n: number) => n / (single + octo);
  assert.ok(Math.abs(share(octo) - 0.5) < 0.1, `octo ${share(octo).toFixed(3)} of the processors used`);
  assert.ok(Math.abs(share(single) - 0.5) < 0.1, `single ${share(single).toFixed(3)}`);
  assert.ok((single + octo) / capacity > 0.8, `processors busy ${((single + octo) / capacity).toFixed(3)}`);
  // Without superslots the 8-processor machinetype never gets 8 processors that free together.
  const without = simulate(1, 2).used;
  assert.equal(without.get("octo"), 0, "superslots of 1: the 8-processor machinetype starves");
});
