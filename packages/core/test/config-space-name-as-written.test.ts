import assert from "node:assert/strict";
import { test } from "node:test";
import { loadTexts } from "./config-load-helpers.js";

const CONF = `[settings]
vac_space = Vac01.Example.org
factory_name = WN01.Example.ORG
factories = WN01.Example.ORG wn02.EXAMPLE.org
[machinetype lhcb]
target_share = 1
machine_model = process
user_data = user_data
`;

test("vac_space is kept as written, as Vac compared it exactly (D599-600, S2743); factory names are lower-cased", () => {
  const r = loadTexts(
    { "/r/etc/vac.conf": CONF },
    { existing: ["/r/var/lib/vac/machinetypes/lhcb/files/user_data"] },
  );
  assert.deepEqual(r.problems, []);
  const s = r.config?.settings;
  assert.equal(s?.vacSpace, "Vac01.Example.org");
  assert.equal(s?.factoryName, "wn01.example.org");
  assert.deepEqual(
    s?.factories.map((f) => f.name),
    ["wn01.example.org", "wn02.example.org"],
  );
  // The site name Vac derived from the space (S1357) keeps its capitals too.
  assert.equal(s?.gocdbSitename, "Example.org");
});

test("a space name that is not a DNS-style name is still refused, whatever its case", () => {
  const r = loadTexts({ "/r/etc/vac.conf": CONF.replace("Vac01.Example.org", "Vac01_Example.org") });
  assert.equal(r.config, undefined);
  assert.ok(
    r.problems.some((p) => p.code === "VAC_ERR_CONFIG_BAD_VALUE" && JSON.stringify(p).includes("vac_space")),
  );
});
