/**
 * The share/backoff decision, one table per rule, and properties checked with fast-check. Each
 * table row is a case, what Vac 3.1 did with it (read from vacd D67-164 and D389-462), and what
 * we do; the two differ only where docs/differences-from-vac.md says why.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  chooseMachinetype,
  decideMachinetype,
  isAbort,
  loadConfig,
  type MachinetypeStatus,
  refuseToStart,
  shutdownCode,
  vacPaths,
} from "../src/index.js";
import { input, local, mt, NOW, settings, status } from "./decision-fixtures.js";

test("shutdown codes: 100 and 200 are normal endings, 300 and up aborts, no code fizzles when short", () => {
  const table: [string | null, number, boolean][] = [
    ["100 Shutdown as requested", 10, false],
    ["200 Intended work completed ok", 10, false],
    ["300 No more work", 5000, true],
    ["400 Banned", 5000, true],
    ["500 Site problem", 5000, true],
    ["600 Job agent failed", 5000, true],
    ["700 Heartbeat file not updated", 5000, true],
    [null, 10, true],
    [null, 5000, false],
    ["No code here", 10, true],
    ["30 too short", 5000, false],
  ];
  for (const [message, lifetime, abort] of table) {
    assert.equal(
      isAbort({ shutdownMessage: message, lifetimeSeconds: lifetime, fizzleSeconds: 600 }),
      abort,
      String(message),
    );
  }
});

test("rule: a shutdown code is int(message[0:3]) of Python 2, as Vac read it (D104)", () => {
  // [message, Vac's int(message[0:3]) (undefined where it raised), ours]
  const table: [string | null, number | undefined, number | undefined][] = [
    ["300 No more work", 300, 300],
    ["300:No more work", 300, 300],
    ["300No", 300, 300],
    ["300", 300, 300],
    ["3000 x", 300, 300],
    [" 30 x", 30, 30],
    ["30 too short", 30, 30],
    ["+30", 30, 30],
    ["-30", -30, -30],
    ["- 5", -5, -5], // Python 2's strtol skips spaces after the sign
    ["\t7\n", 7, 7],
    ["007", 7, 7],
    ["\u0663\u0660\u0660 Arabic-Indic", 300, 300], // unicode decimal digits count
    ["\uff13\uff10\uff10", 300, 300], // full-width
    ["\u00a0300", 30, 30], // a no-break space is whitespace; only 3 characters are read
    ["3 0", undefined, undefined],
    ["30x", undefined, undefined],
    ["0x1", undefined, undefined],
    ["1_0", undefined, undefined], // underscores came with Python 3.6
    ["\u00b2\u00b3", undefined, undefined], // superscripts are digits but not decimals
    ["+-3", undefined, undefined],
    ["   ", undefined, undefined],
    ["", undefined, undefined],
    [null, undefined, undefined],
  ];
  for (const [message, vac, ours] of table) {
    assert.equal(ours, vac, `the table agrees with Vac for ${JSON.stringify(message)}`);
    assert.equal(shutdownCode(message), ours, JSON.stringify(message));
  }
});

test("rule: factory-wide refusals, in Vac's order (D395-411), then ours (total_machines, disk)", () => {
  // [case, local facts and settings, Vac's refusal, ours]
  type Row = [string, Parameters<typeof input>[0], string | undefined, string | undefined];
  const table: Row[] = [
    // Up to 4 processors running: the limit is 1.25 x all 8 host processors = 10.
    [
      "4 running, load 10.5",
      { local: local({ processorsInUse: 4, loadAverages: [10.5, 1, 1] }) },
      "overloaded",
      "overloaded",
    ],
    [
      "4 running, load 9.9",
      { local: local({ processorsInUse: 4, loadAverages: [9.9, 1, 1] }) },
      undefined,
      undefined,
    ],
    // More than 4 running: 1.25 x the 6 running = 7.5.
    [
      "6 running, load 7.6",
      { local: local({ processorsInUse: 6, loadAverages: [1, 7.6, 1] }) },
      "overloaded",
      "overloaded",
    ],
    [
      "6 running, load 7.5",
      { local: local({ processorsInUse: 6, loadAverages: [7.5, 7.5, 7.5] }) },
      undefined,
      undefined,
    ],
    // The largest of the three averages counts (U759-771), not the 1-minute one.
    [
      "load 0 now, 10.5 over 15 min",
      { local: local({ loadAverages: [0, 2, 10.5] }) },
      "overloaded",
      "overloaded",
    ],
    // Host processors, not total_processors: 2 of this 8-processor host's are for machines.
    [
      "total_processors 2, load 5",
      { settings: settings({ totalProcessors: 2 }), local: local({ loadAverages: [5, 5, 5] }) },
      undefined,
      undefined,
    ],
    [
      "shutdown_time passed",
      { settings: settings({ shutdownTime: NOW - 1 }) },
      "after_shutdown_time",
      "after_shutdown_time",
    ],
    // Not refused (shutdown_time < int(now) is false), but no machinetype has time left either.
    ["shutdown_time is now", { settings: settings({ shutdownTime: NOW }) }, undefined, undefined],
    ["draining", { settings: settings({ draining: true }) }, "draining", "draining"],
    [
      "all processors in use",
      { local: local({ processorsInUse: 8, machinesInUse: 8 }) },
      "no_free_processors",
      "no_free_processors",
    ],
    // Order: an overloaded, draining, full factory is refused for its load first, as in Vac.
    [
      "overloaded, draining and full",
      {
        settings: settings({ draining: true, shutdownTime: NOW - 1 }),
        local: local({ processorsInUse: 8, loadAverages: [20, 20, 20] }),
      },
      "overloaded",
      "overloaded",
    ],
    [
      "after shutdown_time and draining",
      { settings: settings({ draining: true, shutdownTime: NOW - 1 }) },
      "after_shutdown_time",
      "after_shutdown_time",
    ],
    // Ours: Vac ignored total_machines (S229) and only logged a full disk (D253-256).
    [
      "all total_machines in use",
      { local: local({ processorsInUse: 4, machinesInUse: 8 }) },
      undefined,
      "no_free_slots",
    ],
    ["999 MB free", { local: local({ stateDiskFreeBytes: 999e6 }) }, undefined, "low_disk"],
  ];
  for (const [name, over, , ours] of table) {
    const d = decideMachinetype(input(over));
    assert.equal(d.refusal?.reason, ours, name);
    if (ours) assert.equal(d.chosen, undefined, name);
    else if (name === "shutdown_time is now")
      assert.deepEqual(
        d.excluded.map((e) => e.reason),
        ["not_enough_time", "not_enough_time"],
      );
    else assert.ok(d.chosen, `${name}: something is started`);
  }
});

test("decideMachinetype is refuseToStart, then chooseMachinetype, which leaves the refusals to its caller", () => {
  // The factory asks refuseToStart once before it polls (D395-415), then chooses without asking again.
  for (const over of [{}, { local: local({ processorsInUse: 8, machinesInUse: 8 }) }]) {
    const i = input(over);
    const refusal = refuseToStart(i.settings, i.local, i.now);
    const { local: _unused, ...census } = i;
    const chosen = chooseMachinetype(census);
    assert.deepEqual(decideMachinetype(i), refusal ? { refusal, ranked: [], excluded: [] } : chosen);
    assert.ok(chosen.chosen, "chooseMachinetype does not look at the local facts");
  }
});

test("rule: backoff after an abort anywhere, extended by fizzle_seconds while a probe is young (D147-152)", () => {
  // backoff_seconds = fizzle_seconds = 600; [case, census, Vac eligible, ours excluded as, until]
  const abort = (ago: number, over: Partial<MachinetypeStatus> = {}) => [
    status("a", { shutdownMessage: "300 No more work", shutdownTime: NOW - ago, ...over }),
  ];
  const table: [string, MachinetypeStatus[], boolean, string | undefined, number | undefined][] = [
    ["abort 100 s ago", abort(100), false, "backoff", NOW + 500],
    ["abort 601 s ago", abort(601), true, undefined, undefined],
    // Vac: lastAbort < int(now) - backoff, strictly: exactly backoff_seconds ago is still out.
    ["abort exactly 600 s ago", abort(600), false, "backoff", NOW],
    [
      "abort 700 s ago with a probe before fizzle",
      abort(700, { numBeforeFizzle: 1 }),
      false,
      "backoff",
      NOW + 500,
    ],
    [
      "abort 1201 s ago with a probe before fizzle",
      abort(1201, { numBeforeFizzle: 1 }),
      true,
      undefined,
      undefined,
    ],
    [
      "200 is no abort",
      [status("a", { shutdownMessage: "200 Done", shutdownTime: NOW - 1 })],
      true,
      undefined,
      undefined,
    ],
    [
      "100 is no abort",
      [status("a", { shutdownMessage: "100 Shutdown", shutdownTime: NOW - 1 })],
      true,
      undefined,
      undefined,
    ],
    [
      "700 is an abort",
      [status("a", { shutdownMessage: "700 Fizzled", shutdownTime: NOW - 1 })],
      false,
      "backoff",
      NOW + 599,
    ],
    [
      "300:colon is an abort",
      [status("a", { shutdownMessage: "300:x", shutdownTime: NOW - 1 })],
      false,
      "backoff",
      NOW + 599,
    ],
    [
      "no shutdown time, no abort",
      [status("a", { shutdownMessage: "300 x", shutdownTime: null })],
      true,
      undefined,
      undefined,
    ],
  ];
  for (const [name, census, vacEligible, reason, until] of table) {
    const d = decideMachinetype(input({ census }));
    const ex = d.excluded.find((e) => e.machinetype === "a");
    assert.equal(ex === undefined, vacEligible, `${name}: as Vac`);
    assert.equal(ex?.reason, reason, name);
    assert.equal(ex?.until, until, name);
    if (reason) assert.equal(d.chosen?.machinetype, "b", name);
  }
});

test("rule: zero shares and too little time before shutdown_time exclude (D147-148)", () => {
  const d = decideMachinetype(
    input({
      settings: settings({ shutdownTime: NOW + 1000 }),
      machinetypes: [
        mt("a", 0),
        mt("b", 1, { minWallclockSeconds: 2000 }),
        // Vac: now + min_wallclock_seconds < shutdown_time, strictly.
        mt("exact", 1, { minWallclockSeconds: 1000, maxWallclockSeconds: 5000 }),
        mt("c", 1, { minWallclockSeconds: 500, maxWallclockSeconds: 5000 }),
      ],
    }),
  );
  assert.deepEqual(
    d.excluded.map((e) => [e.machinetype, e.reason]),
    [
      ["a", "zero_share"],
      ["b", "not_enough_time"],
      ["exact", "not_enough_time"],
    ],
  );
  assert.equal(d.chosen?.machinetype, "c");
  assert.equal(d.chosen?.shutdownTime, NOW + 1000, "the machine's life is capped by shutdown_time");
});

test("rule: the most starved machinetype by running HS06/share comes first, groups before types, ties at random", () => {
  const census = [status("a", { runningHs06: 4 }), status("b", { runningHs06: 1 })];
  assert.equal(
    decideMachinetype(input({ census, machinetypes: [mt("a", 3), mt("b", 1)] })).chosen?.machinetype,
    "b",
  );
  assert.equal(
    decideMachinetype(input({ census, machinetypes: [mt("a", 5), mt("b", 1)] })).chosen?.machinetype,
    "a",
  );
  assert.equal(decideMachinetype(input({ random: () => 0.1 })).ranked.length, 2);
  const picks = new Set(
    [0.1, 0.9].map((r) => {
      let i = 0;
      const seq = [r, 1 - r];
      return decideMachinetype(input({ random: () => seq[i++ % 2] ?? 0 })).chosen?.machinetype;
    }),
  );
  assert.deepEqual([...picks].sort(), ["a", "b"], "ties are broken by the random source");
});

test("rule: a machinegroup's score is the sum of its members' HS06/share, members without a share skipped (D77-95)", () => {
  // [case, machinetypes, census, Vac's group score of g, Vac's choice (= ours)]
  const g = (name: string, share: number) => mt(name, share, { machinegroup: "g" });
  const table: [string, ReturnType<typeof mt>[], MachinetypeStatus[], number, string][] = [
    // x runs 4 at share 1 and y none: g scores 4 + 0 = 4 (not 4 HS06 over a share of 2), z 3.
    [
      "sum of members",
      [g("x", 1), g("y", 1), mt("z", 1)],
      [status("x", { runningHs06: 4 }), status("z", { runningHs06: 3 })],
      4,
      "z",
    ],
    // x runs 4 at share 2: 2; y runs 2 at share 1: 2; together 4, over z's 3.
    [
      "each at its own share",
      [g("x", 2), g("y", 1), mt("z", 1)],
      [status("x", { runningHs06: 4 }), status("y", { runningHs06: 2 }), status("z", { runningHs06: 3 })],
      4,
      "z",
    ],
    // w has no share: its 100 running HS06 add nothing to g, which then scores 2 against z's 3.
    [
      "zero share skipped",
      [g("w", 0), g("x", 1), mt("z", 1)],
      [status("w", { runningHs06: 100 }), status("x", { runningHs06: 2 }), status("z", { runningHs06: 3 })],
      2,
      "x",
    ],
  ];
  for (const [name, machinetypes, census, groupScore, chosen] of table) {
    const d = decideMachinetype(input({ census, machinetypes }));
    const inG = d.ranked.find((r) => r.machinetype === "x");
    assert.equal(inG?.groupScore, groupScore, name);
    assert.equal(d.chosen?.machinetype, chosen, name);
  }
});

test("rule: HS06 as the replies send it, and 1.0 per processor from a reply that sends processors but no HS06", () => {
  // [case, census for a and b, Vac's choice, ours]
  const table: [string, MachinetypeStatus[], string, string][] = [
    // Vac peers without hs06_per_processor send 1.0 per processor (S3033): taken as sent.
    [
      "weighted HS06",
      [
        status("a", { runningProcessors: 1, runningHs06: 40 }),
        status("b", { runningProcessors: 2, runningHs06: 20 }),
      ],
      "b",
      "b",
    ],
    // One of our older factories sent 0 HS06 for 3 processors: we count 3.0 (Vac counted 0).
    [
      "no HS06 sent",
      [
        status("a", { runningProcessors: 3, runningHs06: 0 }),
        status("b", { runningProcessors: 0, runningHs06: 2 }),
      ],
      "a",
      "b",
    ],
  ];
  for (const [name, census, , ours] of table) {
    const withUnset = decideMachinetype(input({ census }));
    assert.equal(withUnset.chosen?.machinetype, ours, name);
    // This factory's own hs06_per_processor does not rescale what its peers report.
    const withSet = decideMachinetype(input({ census, settings: settings({ hs06PerProcessor: 10 }) }));
    assert.equal(withSet.chosen?.machinetype, ours, `${name}, hs06_per_processor = 10 here`);
  }
});

test("rule: the machinegroup defaults to accounting_fqan, then to the machinetype's name (S717-722)", () => {
  const text = `[settings]
vac_space = s.example.com
factories = wn01.example.com
factory_name = wn01.example.com
[machinetype lhcb-a]
target_share = 1
accounting_fqan = /lhcb/Role=pilot
[machinetype lhcb-b]
target_share = 1
accounting_fqan = /lhcb/Role=pilot
[machinetype atlas]
target_share = 1
accounting_fqan = /atlas/Role=pilot
machinegroup = atlas-group
[machinetype other]
target_share = 1
`;
  const { config } = loadConfig({
    files: [{ path: "/etc/vac.conf", text }],
    paths: vacPaths("/r"),
    hostname: "wn01.example.com",
    hostProcessors: 8,
    fileExists: () => true,
  });
  assert.deepEqual(
    config?.machinetypes.map((m) => [m.name, m.machinegroup]),
    [
      ["lhcb-a", "/lhcb/Role=pilot"],
      ["lhcb-b", "/lhcb/Role=pilot"],
      ["atlas", "atlas-group"],
      ["other", "other"],
    ],
  );
});

test("property: a machinetype in backoff is never chosen", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 600 }),
      fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
      (ago, r) => {
        const census = [status("a", { shutdownMessage: "300 No more work", shutdownTime: NOW - ago })];
        return decideMachinetype(input({ census, random: () => r })).chosen?.machinetype !== "a";
      },
    ),
  );
});

test("property: without aborts, repeated decisions keep every machinetype within one machine of its share", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 4, max: 40 }),
      fc.integer(),
      (shares, slots, seed) => {
        let s = seed;
        const random = () => {
          s = (s * 1103515245 + 12345) & 0x7fffffff;
          return s / 0x80000000;
        };
        const types = shares.map((share, i) => mt(`m${i}`, share));
        const running = new Map(types.map((t) => [t.name, 0]));
        const total = shares.reduce((a, b) => a + b, 0);
        for (let n = 0; n < slots; n++) {
          const census = types.map((t) => status(t.name, { runningProcessors: running.get(t.name) ?? 0 }));
          const d = decideMachinetype(
            input({
              census,
              machinetypes: types,
              random,
              settings: settings({ totalProcessors: 1000, totalMachines: 1000 }),
              local: local({ hostProcessors: 1000 }),
            }),
          );
          const chosen = d.chosen?.machinetype;
          if (!chosen) return false;
          running.set(chosen, (running.get(chosen) ?? 0) + 1);
          const sum = n + 1;
          for (const t of types)
            if ((running.get(t.name) ?? 0) > (sum * t.targetShare) / total + 1) return false;
        }
        return true;
      },
    ),
  );
});
