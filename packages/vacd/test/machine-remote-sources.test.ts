/**
 * A new machine whose root_image and user_data are https URLs and whose machinetype asks for a
 * proxy: what prepareMachine hands the hypervisor and writes as user_data (S1535-1573, U198-318).
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig, type VacError, vacPaths } from "@vac/core";
import { FakeClock, requireOrSkip } from "@vac/testkit";
import { prepareMachine } from "../src/factory/prepare-machine.js";
import { createLogger } from "../src/log.js";
import { RemoteSources } from "../src/sources/remote-sources.js";
import { StateStore } from "../src/state/state-store.js";
import { eventLogger, useHttpsRig } from "./support/https-rig.js";

const rig = useHttpsRig("vactest.pem", async (root, pki) => {
  await root.write("var/lib/vac/machinetypes/lhcb/x509cert.pem", await readFile(pki.userCertPath));
  await root.write("var/lib/vac/machinetypes/lhcb/x509key.pem", await readFile(pki.userKeyPath));
});
const { available } = rig;
const TEMPLATE =
  "url=##user_data_url##\nimage=##user_data_root_image_url##\nid=##user_data_uuid##\nv=##user_data_vmlm_version##\nodd=##user_data_odd##\n##user_data_option_x509_proxy##";

function config(userData: string, rootImage: string) {
  const r = loadConfig({
    files: [
      {
        path: "vac.conf",
        text: `[settings]\nvac_space = vac01.example.com\nfactories = wn01.example.com\n[machinetype lhcb]\ntarget_share = 1\nmachine_model = cernvm3\nuser_data = ${userData}\nroot_image = ${rootImage}\nuser_data_proxy = yes\n`,
      },
    ],
    paths: vacPaths(rig.root.path),
    hostname: "wn01.example.com",
    hostProcessors: 2,
    fileExists: () => false,
  });
  assert.ok(r.config, JSON.stringify(r.problems));
  return r.config;
}

test("a machine from remote sources gets the cached image, both URLs, its uuid and a proxy; unknown patterns are removed and logged", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  rig.server.handle((req, res) => res.end(req.url === "/ud" ? TEMPLATE : "ISO IMAGE"));
  const c = config(rig.server.url("/ud"), rig.server.url("/cernvm.iso"));
  const paths = vacPaths(rig.root.path);
  const store = new StateStore(paths);
  await store.init();
  const events: Record<string, unknown>[] = [];
  const logger = eventLogger(events);
  const clock = new FakeClock(Math.floor(Date.now() / 1000));
  const sources = new RemoteSources({ paths, logger, userAgent: "vac test", now: () => clock.now() });
  const mt = c.machinetypes[0];
  assert.ok(mt);
  const launch = await prepareMachine(
    { store, clock, logger, version: "0.1.0", uuid: "11111111-2222-4333-8444-555555555555", sources },
    {
      config: c,
      machinetype: mt,
      slot: "wn01-00.example.com",
      slotIndex: 0,
      processors: 1,
      shutdownTime: clock.now() + 3600,
    },
  );
  assert.equal(
    launch.machinetype.rootImage,
    join(paths.stateDir, "imagecache", encodeURIComponent(rig.server.url("/cernvm.iso"))),
  );
  const text = launch.userData.toString();
  assert.ok(
    text.startsWith(
      `url=${rig.server.url("/ud")}\nimage=${rig.server.url("/cernvm.iso")}\nid=11111111-2222-4333-8444-555555555555\nv=0.1.0\nodd=\n`,
    ),
    text,
  );
  assert.match(text, /-----BEGIN CERTIFICATE-----[\s\S]+-----BEGIN RSA PRIVATE KEY-----/);
  assert.deepEqual(events.find((e) => e.event === "user_data_unknown_patterns")?.patterns, [
    "##user_data_odd##",
  ]);
});

test("a user_data URL that fails with no cached copy stops the start before a machine directory exists, and its machinetype sits out a while", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  rig.server.handle((_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  const c = config(rig.server.url("/never"), rig.server.url("/cernvm.iso"));
  const paths = vacPaths(rig.root.path);
  const store = new StateStore(paths);
  const logger = createLogger({ level: "silent" });
  const clock = new FakeClock(Math.floor(Date.now() / 1000));
  const before = await readdir(paths.machinesDir);
  const sources = new RemoteSources({ paths, logger, userAgent: "t", now: () => clock.now() });
  const mt = c.machinetypes[0];
  assert.ok(mt);
  await assert.rejects(
    prepareMachine(
      {
        store,
        clock,
        logger,
        version: "0.1.0",
        uuid: "u2",
        sources,
      },
      {
        config: c,
        machinetype: mt,
        slot: "wn01-01.example.com",
        slotIndex: 1,
        processors: 1,
        shutdownTime: clock.now() + 3600,
      },
    ),
    (e: VacError) => e.code === "VAC_ERR_SOURCE_FETCH" && /HTTP 503/.test(e.message),
  );
  assert.deepEqual(await readdir(paths.machinesDir), before);
  // The machinetype sits out its backoff (at least a minute) rather than being chosen each cycle.
  assert.deepEqual(sources.usableConfig(c).machinetypes, []);
  clock.advance(59);
  assert.deepEqual(sources.usableConfig(c).machinetypes, []);
  clock.advance(2);
  assert.deepEqual(
    sources.usableConfig(c).machinetypes.map((m) => m.name),
    ["lhcb"],
  );
});
