/**
 * The Prometheus endpoint of a real vacd, scraped over HTTP: machines by state and machinetype,
 * ends by outcome code, census polls, VacQuery datagrams answered and dropped by reason, and the
 * configuration's last read. Only GET /metrics is served, and Prometheus's own linter
 * (`promtool check metrics`) accepts what it serves.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { requireOrSkip } from "@vac/testkit";
import { PAYLOAD_UNTIL_STOP, Space, waitFor } from "./support/space-harness.js";

/** `promtool check metrics` on `text`: its exit status and what it said (ENOENT: not installed). */
function promtoolCheck(text: string): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    const child = execFile("promtool", ["check", "metrics"], { timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({
        code: error ? ((error as { code?: number | string }).code ?? 1) : 0,
        output: stdout + stderr,
      }),
    );
    child.stdin?.end(text);
  });
}

/** The value of one sample (`name{labels}`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test("a real vacd's /metrics reports machines, outcomes, polls, datagrams and configuration reads", async (t) => {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 1,
    firstAddress: 86,
    machinetypes: [{ name: "alpha", share: 1, payload: PAYLOAD_UNTIL_STOP }],
  });
  t.after(() => space.stop());
  const conf = join(space.root(0), "etc/vac.conf");
  const text = await readFile(conf, "utf8");
  await writeFile(conf, text.replace("[settings]\n", "[settings]\nmetrics_address = 127.0.0.86:0\n"));
  await space.startFactory(0);

  const port = await waitFor(
    "vacd to log its metrics port",
    async () => {
      const log = await readFile(join(space.root(0), "vacd.log"), "utf8");
      const m = /"event":"metrics_listening".*"port":(\d+)/.exec(log);
      return m ? Number(m[1]) : undefined;
    },
    20_000,
  );
  const base = `http://127.0.0.86:${port}`;
  const scrape = async () => {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    return res.text();
  };

  const running = await waitFor(
    "alpha running in the metrics",
    async () => {
      const m = await scrape();
      return sample(m, 'vac_machines{state="Running",machinetype="alpha"}') === 1 ? m : undefined;
    },
    30_000,
  );
  assert.equal(sample(running, "vac_config_last_reload_successful"), 1);
  assert.ok((sample(running, "vac_config_last_reload_timestamp_seconds") ?? 0) > 1.7e9);
  assert.ok((sample(running, "vac_census_poll_seconds_count") ?? 0) >= 1, "a census poll was timed");
  assert.equal(sample(running, 'vac_peers{answered="yes"}'), 1, "the factory answers its own poll");
  assert.ok((sample(running, 'vac_machines_created_total{machinetype="alpha"}') ?? 0) >= 1);

  // A datagram that is not JSON is dropped and counted by reason; polls are answered.
  const udp = createSocket("udp4");
  await new Promise<void>((r) => udp.send(Buffer.from("not json"), space.port, "127.0.0.86", () => r()));
  udp.close();
  const dropped = await waitFor(
    "the dropped datagram counted",
    async () => {
      const m = await scrape();
      return (sample(m, 'vac_vacquery_datagrams_dropped_total{reason="not_json"}') ?? 0) >= 1 ? m : undefined;
    },
    10_000,
  );
  const answered = sample(dropped, "vac_vacquery_datagrams_answered_total") ?? 0;
  assert.ok(answered >= 1, "the factory's own polls were answered");
  assert.ok((sample(dropped, "vac_vacquery_datagrams_received_total") ?? 0) >= answered + 1);

  const [machine] = await space.machinesOnDisk();
  assert.ok(machine);
  await writeFile(join(machine.dir, "joboutputs/stop"), "");
  const ended = await waitFor(
    "the end counted with its outcome code",
    async () => {
      const m = await scrape();
      return sample(m, 'vac_machines_ended_total{machinetype="alpha",code="200"}') === 1 ? m : undefined;
    },
    30_000,
  );

  // Every family now has samples (machines, ends by code, polls, drops by reason): Prometheus's
  // linter must accept them all, `_total` counters above all.
  await t.test("promtool check metrics accepts it", async (st) => {
    const checked = await promtoolCheck(ended);
    if (!requireOrSkip(st, checked.code !== "ENOENT", "promtool (apt package prometheus)")) return;
    assert.equal(checked.code, 0, checked.output);
    assert.equal(checked.output.trim(), "", "no complaint, not even a warning");
  });

  // The same listener serves the status page at / (test/status-page-browser.test.ts); any other
  // path is not found, and nothing is written through it.
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  await page.text();
  const other = await fetch(`${base}/elsewhere`);
  assert.equal(other.status, 404);
  await other.text();
  const post = await fetch(`${base}/metrics`, { method: "POST", body: "x" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  await post.text();
});
