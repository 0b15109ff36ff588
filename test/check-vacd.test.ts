/**
 * check-vacd against a real vacd: OK while the factory runs, CRITICAL within a cycle once the
 * daemon is stopped (SIGSTOP) or killed, OK again when it goes on or is restarted; a factory
 * error counts only while recent; and the judgement itself, table by table.
 */
import assert from "node:assert/strict";
import { readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { FactoryStatus } from "@vac/core";
import { judge, type Observations } from "@vac/vac";
import { runCheckVacd } from "./support/check-vacd-run.js";
import { Space, waitFor } from "./support/space-harness.js";

const check = runCheckVacd;

test("check-vacd is OK with a running vacd, CRITICAL once it is stopped or killed or its configuration has errors, OK again after", async (t) => {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 1,
    firstAddress: 71,
    machinetypes: [{ name: "idle", share: 1, payload: "#!/bin/sh\nsleep 120\n" }],
  });
  t.after(() => space.stop());
  await space.startFactory(0);
  const root = space.root(0);

  const ok = await waitFor(
    "check-vacd OK",
    async () => {
      const r = await check(root, "60");
      return r.code === 0 ? r : undefined;
    },
    30_000,
    500,
  );
  assert.match(ok.line, /^VACD OK - Factory \+ responder ok \(\d\/1 machines \d\/1 processors\) \| /);
  assert.match(ok.line, /factory_heartbeat_age=\d+s;;60;0/);
  assert.match(ok.line, /udp_rtt=[\d.]+s/);

  // A stopped daemon answers nothing: CRITICAL at once, not after the heartbeat age.
  space.signal(0, "SIGSTOP");
  try {
    const stopped = await check(root, "60");
    assert.equal(stopped.code, 2, stopped.line);
    assert.match(stopped.line, /^VACD CRITICAL - No reply from the vacd responder in 2 tries/);
  } finally {
    space.signal(0, "SIGCONT");
  }
  await waitFor(
    "check-vacd OK after SIGCONT",
    async () => ((await check(root, "60")).code === 0 ? true : undefined),
    30_000,
    500,
  );

  // Killed, its heartbeat files grow old: with a short maximum age both findings show.
  await space.killFactory(0);
  await new Promise((r) => setTimeout(r, 2500));
  const dead = await check(root, "1");
  assert.equal(dead.code, 2, dead.line);
  assert.match(dead.line, /No vacd factory heartbeat in \d+\.\d\d hours; No reply from the vacd responder/);

  await space.startFactory(0);
  await waitFor(
    "check-vacd OK after a restart",
    async () => ((await check(root, "60")).code === 0 ? true : undefined),
    30_000,
    500,
  );

  // A configuration with errors: vacd stays up on what it could read and says so; so does the
  // check, which still gets its reply.
  const conf = join(root, "etc/vac.conf");
  const good = await readFile(conf, "utf8");
  await writeFile(conf, `${good}\n[machinetype broken]\ntarget_share = lots\n`);
  const bad = await waitFor(
    "check-vacd to see the configuration error",
    async () => {
      const r = await check(root, "60");
      return r.code === 2 && /Configuration error/.test(r.line) ? r : undefined;
    },
    30_000,
    500,
  );
  assert.match(bad.line, /target_share/);
  assert.match(bad.line, /udp_rtt=/, "vacd still answers on a bad configuration");
  await writeFile(conf, good);
  await waitFor(
    "check-vacd OK with the configuration mended",
    async () => ((await check(root, "60")).code === 0 ? true : undefined),
    30_000,
    500,
  );

  // A creation error is CRITICAL while recent (Vac's factory-error), and forgotten when old.
  const errorFile = join(root, "var/lib/vac/factory-error");
  await writeFile(errorFile, "LM creation fails with: virsh create: no space left\n");
  const fresh = await check(root, "60");
  assert.equal(fresh.code, 2, fresh.line);
  assert.match(fresh.line, /LM creation fails with: virsh create: no space left/);
  const old = Date.now() / 1000 - 3600;
  await utimes(errorFile, old, old);
  const stale = await check(root, "60");
  assert.equal(stale.code, 0, stale.line);
});

const status = (over: Partial<FactoryStatus> = {}): FactoryStatus =>
  ({
    messageType: "factory_status",
    runningMachines: 2,
    maxMachines: 4,
    runningProcessors: 2,
    maxProcessors: 4,
    factoryHeartbeatTime: 1000,
    responderHeartbeatTime: 1000,
    configError: null,
    ...over,
  }) as FactoryStatus;

const seen = (over: Partial<Observations> = {}): Observations => ({
  now: 1010,
  maxAge: 600,
  configErrors: [],
  status: status(),
  tries: 1,
  rttSeconds: 0.002,
  files: { factoryHeartbeat: 1000, responderHeartbeat: 1000, error: undefined },
  diskFreePercent: 50,
  diskWarning: 10,
  diskCritical: 5,
  ...over,
});

test("check-vacd's judgement: heartbeats, silence, configuration, disk, recent errors", () => {
  assert.equal(judge(seen()).code, 0);
  assert.match(
    judge(seen({ status: undefined, tries: 1 })).line,
    /No reply from the vacd responder in 1 try \|/,
  );
  // Silence from a keyed factory the plugin could not sign for: the reason is on the line.
  assert.match(
    judge(seen({ status: undefined, tries: 2, keyProblem: "cannot read space_key_file /k (EACCES)" })).line,
    /No reply from the vacd responder in 2 tries \(asked unsigned: cannot read space_key_file \/k \(EACCES\)\)/,
  );
  assert.match(
    judge(seen()).line,
    /^VACD OK - Factory \+ responder ok \(2\/4 machines 2\/4 processors\) \| /,
  );
  // A factory loop that stopped while the responder still answers.
  const hung = judge(seen({ now: 2000, status: status({ responderHeartbeatTime: 1990 }) }));
  assert.equal(hung.code, 2);
  assert.match(hung.line, /No vacd factory heartbeat in 0\.28 hours/);
  assert.doesNotMatch(hung.line, /responder heartbeat/);
  // A silent responder with fresh files is still CRITICAL, and says which.
  const silent = judge(seen({ status: undefined, tries: 3, rttSeconds: undefined }));
  assert.equal(silent.code, 2);
  assert.match(
    silent.line,
    /^VACD CRITICAL - No reply from the vacd responder in 3 tries \| factory_heartbeat_age=10s/,
  );
  // Hours to two places, as Vac printed them.
  assert.match(judge(seen({ now: 1000 + 3 * 3600 })).line, /No vacd factory heartbeat in 3\.00 hours/);
  // Configuration errors, on disk or reported by vacd; a multi-line one stays on one line.
  const conf = judge(seen({ configErrors: ["/etc/vac.conf:3: bad\nvalue", "two"] }));
  assert.equal(conf.code, 2);
  assert.match(conf.line, /Configuration error: \/etc\/vac.conf:3: bad value \(and 1 more\)/);
  assert.equal(conf.line.split("\n").length, 1);
  assert.equal(judge(seen({ status: status({ configError: "x" }) })).code, 2);
  assert.doesNotMatch(
    judge(seen({ configErrors: ["a"], status: status({ configError: "a" }) })).line,
    /vacd reports/,
    "one error is not reported twice",
  );
  assert.doesNotMatch(
    judge(seen({ configErrors: ["x:1: bad\nvalue"], status: status({ configError: "x:1: bad\nvalue" }) }))
      .line,
    /vacd reports/,
    "nor one of several lines",
  );
  // What vacd reports beyond the files, a space key it cannot use, is not lost among them.
  const key = "space_key_file /etc/vac/space.key: mode 644 lets every user read or write it";
  const both = judge(seen({ configErrors: ["a"], status: status({ configError: `${key}\na` }) }));
  assert.equal(both.code, 2);
  assert.match(
    both.line,
    /^VACD CRITICAL - vacd reports a configuration error: space_key_file \/etc\/vac\/space.key: mode 644 lets every user read or write it; Configuration error: a \(/,
  );
  assert.match(
    judge(seen({ status: status({ configError: key }) })).line,
    /^VACD CRITICAL - vacd reports a configuration error: space_key_file/,
  );
  // Disk: WARNING, then CRITICAL.
  assert.equal(judge(seen({ diskFreePercent: 8 })).code, 1);
  assert.match(judge(seen({ diskFreePercent: 8 })).line, /^VACD WARNING - Only 8.0% free/);
  assert.equal(judge(seen({ diskFreePercent: 4 })).code, 2);
  // The last creation error counts while within the maximum age only.
  const error = { message: "LM creation fails with: boom", time: 900 };
  assert.equal(judge(seen({ files: { factoryHeartbeat: 1000, responderHeartbeat: 1000, error } })).code, 2);
  assert.equal(
    judge(
      seen({ files: { factoryHeartbeat: 1000, responderHeartbeat: 1000, error: { ...error, time: 100 } } }),
    ).code,
    0,
  );
});
