import assert from "node:assert/strict";
import { test } from "node:test";
import {
  identityFromMachineRecords,
  parseIdentityRecord,
  renderIdentityRecord,
  withKeptIdentity,
} from "../src/index.js";
import { loadTexts } from "./config-load-helpers.js";

const ID = {
  space: "Vac01.Example.org",
  factoryName: "wn01.example.org",
  udpPort: 995,
  udpBindAddress: "10.0.0.1",
};

test("an identity record reads back as written, and nothing else passes for one", () => {
  assert.deepEqual(parseIdentityRecord(renderIdentityRecord(ID)), ID);
  const bad: Record<string, unknown>[] = [
    { ...JSON.parse(renderIdentityRecord(ID)), vac_space: "" },
    { ...JSON.parse(renderIdentityRecord(ID)), vac_space: "a b" },
    { ...JSON.parse(renderIdentityRecord(ID)), factory_name: 7 },
    { ...JSON.parse(renderIdentityRecord(ID)), udp_port: 0 },
    { ...JSON.parse(renderIdentityRecord(ID)), udp_port: 995.5 },
    { ...JSON.parse(renderIdentityRecord(ID)), udp_bind_address: "evil.example.org" },
  ];
  for (const b of bad) assert.equal(parseIdentityRecord(JSON.stringify(b)), undefined, JSON.stringify(b));
  for (const text of ["", "null", "[]", "{", '"x"']) assert.equal(parseIdentityRecord(text), undefined, text);
});

test("the machines' records give the newest valid space, and the factory name when they have one", () => {
  assert.deepEqual(
    identityFromMachineRecords(
      [
        { space: undefined, factory: "x.example.org" },
        { space: "not a space\n", factory: "x.example.org" },
        { space: "Vac01.Example.org\n", factory: "WN01.Example.org\n" },
        { space: "older.example.org\n", factory: "wn01.example.org\n" },
      ],
      "box",
    ),
    { space: "Vac01.Example.org", factoryName: "wn01.example.org" },
  );
  assert.deepEqual(identityFromMachineRecords([{ space: "s.example.org", factory: "no good" }], "box"), {
    space: "s.example.org",
    factoryName: "box",
  });
  assert.equal(identityFromMachineRecords([], "box"), undefined);
});

test("a fallback under a kept identity has its space, name, port, address, and the site derived from the space", () => {
  const r = loadTexts({
    "/r/etc/vac.conf": "[settings]\nvac_space = not a space!\nfactories = wn01.example.com\n",
  });
  assert.equal(r.config, undefined);
  const fallback = r.fallback;
  assert.ok(fallback);
  assert.equal(fallback.settings.vacSpace, "", "a fallback of its own has no space");
  const kept = withKeptIdentity(fallback, ID).settings;
  assert.deepEqual(
    [kept.vacSpace, kept.factoryName, kept.udpPort, kept.udpBindAddress, kept.gocdbSitename],
    ["Vac01.Example.org", "wn01.example.org", 995, "10.0.0.1", "Example.org"],
  );
  const partial = withKeptIdentity(fallback, {
    space: "s.example.org",
    factoryName: "wn02.example.org",
  }).settings;
  assert.equal(partial.udpPort, fallback.settings.udpPort);
  assert.equal(partial.udpBindAddress, fallback.settings.udpBindAddress);
});
