import assert from "node:assert/strict";
import { test } from "node:test";
import { canonicalFactoryName } from "../src/index.js";
import { loadTexts } from "./config-load-helpers.js";

const USER_DATA = "/r/var/lib/vac/machinetypes/lhcb/files/user_data";
const conf = (settings: string) => `[settings]
vac_space = vac01.example.com
${settings}
[machinetype lhcb]
target_share = 1
machine_model = process
user_data = user_data
`;

test("a name without a dot gets this factory's domain, as Vac's canonicalFQDN (S864-879)", () => {
  const rows: [string, string, string][] = [
    ["wn02", "wn01.example.org", "wn02.example.org"],
    ["wn02", "wn01.site.example.org", "wn02.site.example.org"],
    ["wn02.other.org", "wn01.example.org", "wn02.other.org"],
    // No domain to give: the name as given, as Vac's `except` returned it (S877-879).
    ["wn02", "wn01", "wn02"],
  ];
  for (const [name, own, want] of rows)
    assert.equal(canonicalFactoryName(name, own), want, `${name} on ${own}`);
});

test("factories written short are completed with the domain of factory_name, its default the host's name", () => {
  const r = loadTexts(
    { "/r/etc/vac.conf": conf("factories = wn01 WN02 wn03.other.org:996") },
    { hostname: "wn01.example.com", existing: [USER_DATA] },
  );
  assert.deepEqual(r.problems, [], "wn01 is this factory: no FACTORY_NOT_LISTED warning");
  assert.deepEqual(
    r.config?.settings.factories.map((f) => [f.name, f.port, f.host]),
    [
      ["wn01.example.com", 995, "wn01.example.com"],
      ["wn02.example.com", 995, "wn02.example.com"],
      ["wn03.other.org", 996, "wn03.other.org"],
    ],
  );

  const named = loadTexts(
    {
      "/r/etc/vac.conf": conf(
        "factory_name = f1.e2e.test\nfactories = f1 f2\nfactory_addresses = f1=127.0.0.1 f2=127.0.0.2",
      ),
    },
    { hostname: "box", existing: [USER_DATA] },
  );
  assert.deepEqual(named.problems, []);
  assert.deepEqual(
    named.config?.settings.factories.map((f) => [f.name, f.host]),
    [
      ["f1.e2e.test", "127.0.0.1"],
      ["f2.e2e.test", "127.0.0.2"],
    ],
    "factory_addresses' short names are completed alike",
  );
});
