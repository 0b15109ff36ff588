/** machine_model = docker with docker_command = /usr/bin/podman: container-machine-scenario.ts. */
import { test } from "node:test";
import { containerScenario } from "./support/container-machine-scenario.js";

test("a docker machine runs as Vac ran it through Podman: named, limited, bound read-only, adopted, zombies removed, outcome 300, deadline kept", async (t) => {
  await containerScenario(t, "podman", 118);
});
