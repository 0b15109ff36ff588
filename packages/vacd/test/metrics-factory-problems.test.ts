/** What stops a factory starting machines, as metrics: the hypervisor's answer and the state directory's. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ResponderView } from "@vac/core";
import { FactoryMetrics } from "../src/metrics/factory-metrics.js";

const view = (status: { hypervisorError?: string | null; stateError?: string | null }) =>
  ({ machines: [], machinetypes: [], status }) as unknown as ResponderView;

test("vac_hypervisor_up and vac_factory_problem follow each published view, with the error's code", async () => {
  const metrics = new FactoryMetrics({ answeredCount: 0, dropCounts: () => new Map() });
  metrics.observeView(
    view({
      hypervisorError: "VAC_ERR_HYPERVISOR_UNAVAILABLE: libvirt qemu:///system: cannot be reached",
      stateError: "VAC_ERR_STATE_DISK_LOW: /var/lib/vac has 5 bytes free",
    }),
  );
  let text = await metrics.registry.metrics();
  assert.match(text, /^vac_hypervisor_up 0$/m);
  assert.match(text, /^vac_factory_problem\{what="hypervisor",code="VAC_ERR_HYPERVISOR_UNAVAILABLE"\} 1$/m);
  assert.match(text, /^vac_factory_problem\{what="state",code="VAC_ERR_STATE_DISK_LOW"\} 1$/m);
  metrics.observeView(view({ hypervisorError: null, stateError: null }));
  text = await metrics.registry.metrics();
  assert.match(text, /^vac_hypervisor_up 1$/m);
  assert.doesNotMatch(text, /^vac_factory_problem\{/m, "a problem that ended is no longer shown");
});
