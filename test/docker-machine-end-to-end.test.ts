/** machine_model = docker with a real dockerd: container-machine-scenario.ts. */
import { test } from "node:test";
import { containerScenario } from "./support/container-machine-scenario.js";

test("a docker machine runs as Vac ran it: named, limited, bound read-only, adopted, zombies removed, outcome 300, deadline kept (Docker)", async (t) => {
  await containerScenario(t, "docker", 116);
});
