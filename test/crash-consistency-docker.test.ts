/**
 * The crash-consistency run (crash-consistency.test.ts) on `machine_model = docker` with a real
 * dockerd: fewer lives (each a container made, started and removed), the same kills (after the
 * container's creation and after its start, after an outcome, inside a creation, at random) and
 * the same rules, and no container of the factory's slots that no unfinished machine records.
 */
import { test } from "node:test";
import { containerCrashModel, makeTempRoot, requireOrSkip } from "@vac/testkit";
import { cleanUp, findEngine, importBusybox } from "./support/container-engine.js";
import { crashTest } from "./support/crash-run.js";

test("vacd killed at any moment over 20 container lives leaves no unknown container and every life accounted once (Docker)", async (t) => {
  const work = await makeTempRoot("vac-crash-docker-");
  t.after(() => work.remove());
  const engine = await findEngine("docker", work.path);
  if (!requireOrSkip(t, typeof engine !== "string", String(engine)) || typeof engine === "string") return;
  const image = `localhost/vac-crash-busybox:${process.pid}`;
  await importBusybox(engine, work.path, image);
  t.after(() => cleanUp(engine, [], image));
  await crashTest(t, {
    model: containerCrashModel({ command: engine.command, env: engine.env, image }),
    factoryName: `cd${process.pid}.vac-test.example`,
    slots: 4,
    lives: 20,
    address: "127.0.0.125",
    // About 1 minute here; a loaded host gets longer, not fewer lives.
    maxSeconds: 180,
    killsAfterSpawn: 1,
    killsBeforeAccounting: 1,
  });
});
