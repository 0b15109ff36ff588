/** The responder's counters as metrics: what the kernel dropped before vacd read it is dropped, not received. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { DropReason } from "@vac/core";
import { FactoryMetrics } from "../src/metrics/factory-metrics.js";

test("queue_full is counted among the drops but not among the datagrams read", async () => {
  const drops = new Map<DropReason, number>([
    ["not_json", 2],
    ["queue_full", 100],
  ]);
  const metrics = new FactoryMetrics({ answeredCount: 5, dropCounts: () => drops });
  const text = await metrics.registry.metrics();
  assert.match(text, /^vac_vacquery_datagrams_received_total 7$/m);
  assert.match(text, /^vac_vacquery_datagrams_dropped_total\{reason="queue_full"\} 100$/m);
  assert.match(text, /^vac_vacquery_datagrams_answered_total 5$/m);
});
