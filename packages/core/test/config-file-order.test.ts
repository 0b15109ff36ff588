import assert from "node:assert/strict";
import { test } from "node:test";
import { configFileOrder, vacPaths } from "../src/index.js";
import { loadTexts } from "./config-load-helpers.js";

test("files are read legacy first, then vac.d in byte order, then vac.conf, then /var/run/vac.conf", () => {
  assert.deepEqual(
    configFileOrder(vacPaths("/r"), ["b.conf", "Z.conf", "a.conf", "notes.txt", ".hidden.conf", "10-x.conf"]),
    [
      "/r/etc/vac-virtualmachines.conf",
      "/r/etc/vac-factories.conf",
      "/r/etc/vac-targetshares.conf",
      "/r/etc/vac.d/10-x.conf",
      "/r/etc/vac.d/Z.conf",
      "/r/etc/vac.d/a.conf",
      "/r/etc/vac.d/b.conf",
      "/r/etc/vac.conf",
      "/r/var/run/vac.conf",
    ],
  );
});

test("same-named sections merge and a later value wins, with its source", () => {
  const r = loadTexts({
    "/r/etc/vac.d/a.conf":
      "[settings]\nvac_space = s.example.com\nfactories = .\n[machinetype a]\ntarget_share = 1\nbackoff_seconds = 5\n",
    "/r/etc/vac.d/b.conf": "[machinetype a]\ntarget_share = 4\n",
    "/r/etc/vac.conf": "[settings]\ndraining = no\n",
    "/r/var/run/vac.conf": "[settings]\ndraining = yes\nshutdown_time = 1900000000\n",
  });
  assert.deepEqual(r.problems, []);
  const c = r.config!;
  assert.equal(c.machinetypes[0]?.targetShare, 4);
  assert.equal(c.machinetypes[0]?.backoffSeconds, 5);
  assert.equal(c.settings.draining, true);
  assert.equal(c.settings.shutdownTime, 1900000000);
  assert.deepEqual(c.sources.get("settings.draining"), { file: "/r/var/run/vac.conf", line: 2 });
  assert.deepEqual(c.sources.get("machinetype a.target_share"), { file: "/r/etc/vac.d/b.conf", line: 2 });
});

test("target_share wins over [targetshares], which gives the share of a machinetype without one", () => {
  const r = loadTexts({
    "/r/etc/vac-targetshares.conf": "[targetshares]\na = 7\nb = 2\n",
    "/r/etc/vac.conf":
      "[settings]\nvac_space = s.example.com\nfactories = .\n[machinetype a]\ntarget_share = 1\n[machinetype b]\n",
  });
  assert.deepEqual(
    r.config?.machinetypes.map((m) => [m.name, m.targetShare]),
    [
      ["a", 1],
      ["b", 2],
    ],
  );
  assert.deepEqual(r.config?.sources.get("machinetype a.target_share"), { file: "/r/etc/vac.conf", line: 5 });
  assert.deepEqual(r.config?.sources.get("machinetype b.target_share"), {
    file: "/r/etc/vac-targetshares.conf",
    line: 3,
  });
});

test("the legacy files come first, and only when /etc/vac.conf does not exist", () => {
  assert.deepEqual(configFileOrder(vacPaths("/r"), ["a.conf"], true), [
    "/r/etc/vac.d/a.conf",
    "/r/etc/vac.conf",
    "/r/var/run/vac.conf",
  ]);
});

test("continuation lines join with newlines and a blank line ends them", () => {
  const r = loadTexts({
    "/r/etc/vac.conf":
      "[settings]\nvac_space = s.example.com\nfactories = wn01.example.com\n  wn02.example.com\n\n  \n[machinetype a]\ntarget_share=1\n",
  });
  assert.deepEqual(
    r.config?.settings.factories.map((f) => f.name),
    ["wn01.example.com", "wn02.example.com"],
  );
});

test("absolute paths are taken under --root", () => {
  const r = loadTexts(
    {
      "/r/etc/vac.conf":
        "[settings]\nvac_space = s.example.com\nfactories = .\n[machinetype a]\ntarget_share=1\nuser_data = /srv/ud\n",
    },
    { existing: ["/r/srv/ud"] },
  );
  assert.equal(r.config?.machinetypes[0]?.userData, "/r/srv/ud");
});
