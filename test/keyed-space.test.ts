/**
 * A space with a space key and a dead peer: real `vacd` processes sign their census polls and
 * replies, fill their slots without waiting on the dead peer, publish the census's freshness and
 * their drop counts in `factory_status`, log the census age of each decision, and give an
 * unsigned query nothing; `vac` signs with the key it can read. A factory whose key file is
 * unusable starts nothing but shows why to `vac` and check-vacd on the host, and a `vac` that
 * cannot use the key says so once, and links the silence to it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { pollSpace } from "@vac/vacd";
import { runCheckVacd } from "./support/check-vacd-run.js";
import { PAYLOAD_UNTIL_STOP, Space, VAC, waitFor } from "./support/space-harness.js";

/** Runs a program to its end and keeps what it said, whatever its exit status. */
function runNode(script: string, args: readonly string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [script, ...args], { timeout: 40_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test("a keyed space fills its slots past a dead peer, and unsigned queries get nothing", async (t) => {
  const space = await Space.create({
    factories: 2,
    processorsPerFactory: 3,
    firstAddress: 151,
    machinetypes: [{ name: "alpha", share: 1, payload: PAYLOAD_UNTIL_STOP }],
    // Nothing listens at the dead peer's address: before the census every start waited on it.
    otherFactories: [{ name: "dead.e2e.vac.test", address: "127.0.0.159" }],
    extraSettings: ["space_key_file = /etc/vac/space.key", "census_seconds = 3"],
  });
  t.after(() => space.stop());
  for (let i = 0; i < 2; i++) await space.writeSpaceKey(i, "# e2e\nkeyed-space-e2e-key-0123456789\n", 0o600);
  const started = Date.now();
  await space.startAll();
  await waitFor(
    "all 6 slots running",
    async () => {
      const replies = (await space.vacJson(0, ["machines"])) as { state: string }[];
      return replies.filter((r) => r.state === "Running").length === 6 ? true : undefined;
    },
    60_000,
    500,
  );
  const fillSeconds = (Date.now() - started) / 1000;
  t.diagnostic(`6 slots over 2 factories filled in ${fillSeconds.toFixed(1)} s with a dead peer`);

  const status = (await space.vacJson(0, ["factories"])) as Record<string, unknown>[];
  const ours = status.filter((s) => space.names.includes(String(s.factory)));
  assert.equal(ours.length, 2, "vac signs its queries with the key it can read");
  for (const s of ours) {
    assert.equal(typeof s.census_max_age_seconds, "number");
    assert.equal(typeof s.census_age_seconds, "number");
    assert.ok((s.census_age_seconds as number) <= (s.census_max_age_seconds as number));
    assert.equal(typeof s.datagrams_dropped, "number");
  }

  const unsigned = await pollSpace({
    factories: space.names.map((name, i) => ({ name, port: space.port, host: space.addresses[i] as string })),
    space: "e2e.vac.test",
    queryType: "factory_query",
    timeoutSeconds: 1,
    daemonVersion: "t",
    now: () => Date.now() / 1000,
  });
  assert.equal(unsigned.replies.length, 0, "no reply to an unsigned query");

  // check-vacd signs with the key it can read, so a keyed factory answers it.
  const check = await runCheckVacd(space.root(0));
  assert.equal(check.code, 0, check.line);
  assert.match(check.line, /^VACD OK - Factory \+ responder ok/);

  const log = await space.logEvents(0);
  const decisions = log.filter((l) => l.event === "decision" && l.chosen);
  assert.ok(decisions.length >= 3);
  for (const d of decisions) {
    assert.equal(typeof d.census_age_seconds, "number");
    assert.ok(
      (d.silent as string[]).includes("dead.e2e.vac.test"),
      "the dead peer is counted as holding nothing",
    );
  }
  assert.ok(!log.some((l) => l.event === "space_key_unusable"));
});

test("a key file others can read is refused: vacd stays up, starts nothing and says why", async (t) => {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 2,
    firstAddress: 161,
    machinetypes: [{ name: "alpha", share: 1, payload: PAYLOAD_UNTIL_STOP }],
    extraSettings: ["space_key_file = /etc/vac/space.key"],
  });
  t.after(() => space.stop());
  await space.writeSpaceKey(0, "keyed-space-e2e-key-0123456789\n", 0o644);
  await space.startFactory(0);
  const lines = () => space.logEvents(0);
  await waitFor(
    "space_key_unusable and a failed cycle",
    async () => {
      const log = await lines();
      return log.some((l) => l.event === "space_key_unusable") &&
        log.some((l) => l.event === "cycle_failed" && l.code === "VAC_ERR_SPACE_KEY")
        ? true
        : undefined;
    },
    20_000,
    200,
  );
  const log = await lines();
  assert.ok(!log.some((l) => l.event === "machine_started"), "nothing is started");
  assert.match(String(log.find((l) => l.event === "space_key_unusable")?.err), /mode 644/);

  // vac refuses the same file, asks unsigned, and says so once; vacd answers this host's
  // factory_query with the problem in config_error.
  const root = space.root(0);
  const factories = await runNode(VAC, ["factories", "--json", "--root", root]);
  assert.equal(factories.code, 0, factories.stderr);
  const [status] = JSON.parse(factories.stdout) as { config_error: string | null }[];
  assert.match(
    String(status?.config_error),
    /^space_key_file \S+\/etc\/vac\/space\.key: mode 644 lets every user/,
  );
  const hints = factories.stderr.split("\n").filter((l) => l.includes("space_key_file"));
  assert.equal(hints.length, 1, factories.stderr);
  assert.match(
    hints[0] as string,
    /^vac: cannot use space_key_file \S+space\.key: mode 644 lets every user read or write it \(chmod 600 or 640\); queries are sent unsigned, and factories with this key answer them only with allow_unauthenticated_queries = yes$/,
  );
  // Everything else stays dropped: the silence is linked to the key.
  const machines = await runNode(VAC, ["machines", "--timeout", "1", "--root", root]);
  assert.equal(machines.code, 69);
  assert.equal(machines.stderr.split("\n").filter((l) => l.startsWith("vac: cannot use")).length, 1);
  assert.match(
    machines.stderr,
    /answered within 1s \(asked: \S+\); the queries went unsigned, as space_key_file could not be used/,
  );
  const check = await runCheckVacd(root);
  assert.equal(check.code, 2, check.line);
  assert.match(
    check.line,
    /^VACD CRITICAL - vacd reports a configuration error: space_key_file \S+: mode 644/,
  );
});
