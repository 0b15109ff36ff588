/**
 * `vac simulate` against a real space: 6 vacd factories x 8 process slots on 127.0.0.x (shares
 * a:3 b:2 c:1 d:1, d's machines leaving at once with 300), filled from empty a few times, and
 * the simulator run on factory 0's own vac.conf with a few seeds. They must agree on the time to
 * full within max(2x, +10 s) and on each machinetype's count when full within 2 machines (the
 * mean of the real runs against the median of the seeds): the agreement the README says the
 * simulator is trusted within. The factories' overload_per_processor is set high in both, so the
 * load of the shared host running the test does not stop the real starts.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { parseSimConfig, simulateSpace } from "@vac/vacd";
import { PAYLOAD_UNTIL_STOP, Space, waitFor } from "./support/space-harness.js";

const DRY_PAYLOAD = `#!/bin/sh
echo "300 No more work" > "$JOBOUTPUTS/shutdown_message"
`;
const WITH_WORK = ["a", "b", "c"] as const;
const REAL_RUNS = 2;
const SEEDS = [1, 2, 3];

interface Fill {
  readonly fullAfter: number;
  readonly counts: Record<string, number>;
}

async function realFill(run: number): Promise<{ fill: Fill; conf: string }> {
  const space = await Space.create({
    factories: 6,
    processorsPerFactory: 8,
    firstAddress: 161 + run * 8,
    machinetypes: [
      { name: "a", share: 3, payload: PAYLOAD_UNTIL_STOP },
      { name: "b", share: 2, payload: PAYLOAD_UNTIL_STOP },
      { name: "c", share: 1, payload: PAYLOAD_UNTIL_STOP },
      { name: "d", share: 1, payload: DRY_PAYLOAD },
    ],
    extraSettings: ["overload_per_processor = 100"],
  });
  try {
    const conf = await readFile(join(space.root(0), "etc/vac.conf"), "utf8");
    const t0 = Date.now();
    await space.startAll();
    const counts = await waitFor(
      "all 48 slots running a machinetype with work",
      async () => {
        const replies = (await space.vacJson(0, ["machines"])) as {
          state: string;
          machinetype: string | null;
        }[];
        const c: Record<string, number> = { a: 0, b: 0, c: 0 };
        for (const r of replies)
          if (r.state === "Running" && r.machinetype && r.machinetype in c)
            c[r.machinetype] = (c[r.machinetype] ?? 0) + 1;
        return WITH_WORK.reduce((n, m) => n + (c[m] ?? 0), 0) >= 48 ? c : undefined;
      },
      60_000,
      250,
    );
    return { fill: { fullAfter: (Date.now() - t0) / 1000, counts }, conf };
  } finally {
    await space.stop();
  }
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test("vac simulate --config agrees with a real 6 x 8 space on the time to full and each machinetype's count", async () => {
  const real: Fill[] = [];
  let conf = "";
  for (let run = 0; run < REAL_RUNS; run++) {
    const r = await realFill(run);
    real.push(r.fill);
    conf = r.conf;
  }
  const base = parseSimConfig(conf, "vac.conf");
  const sims = [];
  for (const seed of SEEDS)
    sims.push(
      await simulateSpace({
        base,
        factories: 6,
        slots: 8,
        dead: 0,
        noWork: ["d"],
        duration: 60,
        seed,
        rules: "vacd",
        lifetime: 1e7,
        noWorkSeconds: 0.2,
      }),
    );
  const realFull = mean(real.map((r) => r.fullAfter));
  const simFull = median(sims.map((s) => s.full_after_seconds ?? Number.POSITIVE_INFINITY));
  const figures = `real ${real.map((r) => `${r.fullAfter.toFixed(1)} s ${JSON.stringify(r.counts)}`).join(", ")}; simulated ${sims
    .map(
      (s) =>
        `${s.full_after_seconds?.toFixed(1)} s ${s.machinetypes.map((m) => `${m.name}=${m.running_at_end}`).join(" ")}`,
    )
    .join(", ")}`;
  process.stderr.write(`simulator against reality: ${figures}\n`);
  assert.ok(
    simFull <= Math.max(2 * realFull, realFull + 10) && simFull >= Math.min(realFull / 2, realFull - 10),
    `time to full: simulated ${simFull} s against real ${realFull} s (${figures})`,
  );
  for (const m of WITH_WORK) {
    const r = mean(real.map((x) => x.counts[m] ?? 0));
    const s = median(sims.map((x) => x.machinetypes.find((y) => y.name === m)?.running_at_end ?? 0));
    assert.ok(Math.abs(r - s) <= 2, `${m}: real ${r} against simulated ${s} (${figures})`);
  }
});
