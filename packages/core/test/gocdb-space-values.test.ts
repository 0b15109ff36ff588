/** The values sent to GOCDB, as Vac's updateGOCDB made them (S3284-3386), and the calls' URLs and id (U829-886). */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  extensionPropertiesUrl,
  type GocdbMachinetype,
  gocdbSpaceValues,
  gocdbTime,
  serviceEndpointUrl,
  serviceIdFromXml,
  sharesInfo,
} from "../src/index.js";

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0) / 1000 + 0.75;
const status = (p: number, m: number, h: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    message_type: "factory_status",
    max_processors: p,
    max_machines: m,
    max_hs06: h,
    ...extra,
  });

test("capacity sums the census files given, and the fixed fields are Vac's (S3370-3379)", () => {
  const r = gocdbSpaceValues({
    catalogueText: undefined,
    census: [
      { factory: "f1.example.com", text: status(8, 8, 80) },
      { factory: "f2.example.com", text: status(16, 4, 200.5) },
    ],
    machinetypes: [],
    version: "0.1.0",
    now: NOW,
  });
  assert.deepEqual(r.values, {
    ComputingManagerCreationTime: "2024-05-01T12:00:00Z",
    ComputingManagerProductName: "Vac",
    ComputingManagerProductVersion: "0.1.0",
    ComputingManagerTotalLogicalCPUs: 24,
    ComputingManagerTotalSlots: 12,
    ComputingManagerTotalPhysicalCPUs: 2,
    BenchmarkType: "specint2000",
    BenchmarkValue: 280.5 * 250,
  });
  assert.deepEqual(r.censusCounted, ["f1.example.com", "f2.example.com"]);
  assert.deepEqual(r.problems, []);
});

test("the catalogue counts first; a census file of a factory it names is not counted again (S3296-3323)", () => {
  const catalogue = {
    "f1.example.com": { max_processors: 2, max_machines: 1, max_hs06: 20 },
    "f9.example.com": { max_processors: 3, max_machines: 2, max_hs06: 30 },
    // Malformed: not counted, and still its census file is not counted either, as in Vac.
    "f2.example.com": { max_processors: 3, max_machines: 2 },
  };
  const r = gocdbSpaceValues({
    catalogueText: JSON.stringify(catalogue),
    census: [
      { factory: "f1.example.com", text: status(100, 100, 1000) },
      { factory: "f2.example.com", text: status(100, 100, 1000) },
      { factory: "f3.example.com", text: status(4, 4, 40) },
    ],
    machinetypes: [],
    version: "0.1.0",
    now: NOW,
  });
  assert.deepEqual(r.catalogueCounted, ["f1.example.com", "f9.example.com"]);
  assert.deepEqual(r.censusCounted, ["f3.example.com"]);
  assert.deepEqual(r.censusInCatalogue, ["f1.example.com", "f2.example.com"]);
  assert.equal(r.values.ComputingManagerTotalPhysicalCPUs, 3);
  assert.equal(r.values.ComputingManagerTotalLogicalCPUs, 9);
  assert.equal(r.values.ComputingManagerTotalSlots, 7);
  assert.equal(r.values.BenchmarkValue, 90 * 250);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0] ?? "", /f2\.example\.com: max_hs06 is missing/);
});

test("hostile or broken census files and catalogues are reported and not counted", () => {
  const rows: [string | undefined, RegExp][] = [
    [undefined, /unreadable/],
    ["{not json", /census file x/],
    ["[1,2,3]", /not a JSON object/],
    [status(-1, 1, 1), /max_processors is -1/],
    [status(1, "2" as unknown as number, 1), /max_machines is "2"/],
    [JSON.stringify({ max_processors: 1, max_machines: 1, max_hs06: null }), /max_hs06 is null/],
    ['{"max_processors":1e999,"max_machines":1,"max_hs06":1}', /max_processors is null|max_processors/],
  ];
  for (const [text, problem] of rows) {
    const r = gocdbSpaceValues({
      catalogueText: undefined,
      census: [{ factory: "x", text }],
      machinetypes: [],
      version: "v",
      now: NOW,
    });
    assert.deepEqual(r.censusCounted, [], String(text));
    assert.equal(r.values.ComputingManagerTotalPhysicalCPUs, 0);
    assert.match(r.problems.join("\n"), problem, String(text));
  }
  for (const text of ["nope", "[]", "null", "3"]) {
    const r = gocdbSpaceValues({
      catalogueText: text,
      census: [{ factory: "a", text: status(1, 1, 1) }],
      machinetypes: [],
      version: "v",
      now: NOW,
    });
    assert.deepEqual(r.censusCounted, ["a"], "a bad catalogue does not stop the census counting");
    assert.match(r.problems.join("\n"), /space-catalogue\.json/);
  }
});

test("shares by VO, rounded half up, and the policy rule from every accounting_fqan (S3339-3386)", () => {
  const mts: GocdbMachinetype[] = [
    { name: "lhcb-a", targetShare: 1, accountingFqan: "/lhcb/Role=pilot" },
    { name: "atlas", targetShare: 2, accountingFqan: "/atlas/Role=production" },
    { name: "lhcb-b", targetShare: 1, accountingFqan: "/lhcb/Role=pilot" },
    { name: "cms-off", targetShare: 0, accountingFqan: "/cms" },
    { name: "plain", targetShare: 5, accountingFqan: undefined },
    { name: "novo", targetShare: 3, accountingFqan: "novo" },
  ];
  const { otherInfo, policyRule } = sharesInfo(mts);
  assert.equal(otherInfo, "Share=lhcb:50,Share=atlas:50");
  assert.equal(
    policyRule,
    "VOMS:/lhcb/Role=pilot,VOMS:/atlas/Role=production,VOMS:/lhcb/Role=pilot,VOMS:/cms,VOMS:novo",
  );
  assert.equal(
    sharesInfo([
      { name: "a", targetShare: 1, accountingFqan: "/a" },
      { name: "b", targetShare: 2, accountingFqan: "/b" },
    ]).otherInfo,
    "Share=a:33,Share=b:67",
    "33.3 and 66.7 round to 33 and 67",
  );
  assert.equal(
    sharesInfo([
      { name: "a", targetShare: 1, accountingFqan: "/a" },
      { name: "b", targetShare: 7, accountingFqan: "/b" },
    ]).otherInfo,
    "Share=a:13,Share=b:88",
    "12.5 rounds half up to 13, 87.5 to 88",
  );
  const r = gocdbSpaceValues({
    catalogueText: undefined,
    census: [],
    machinetypes: mts,
    version: "v",
    now: NOW,
  });
  assert.equal(r.values.ComputingManagerOtherInfo, "Share=lhcb:50,Share=atlas:50");
  assert.equal(r.values.PolicyRule, policyRule);
  assert.equal(r.values.PolicyScheme, "org.glite.standard");
  const none = gocdbSpaceValues({
    catalogueText: undefined,
    census: [],
    machinetypes: [mts[4] as GocdbMachinetype],
    version: "v",
    now: NOW,
  });
  assert.equal("ComputingManagerOtherInfo" in none.values, false, "left out when empty (S3381)");
  assert.equal(
    "PolicyRule" in none.values || "PolicyScheme" in none.values,
    false,
    "left out when empty (S3384)",
  );
});

test("the time is UTC to the second with a Z", () => {
  assert.equal(gocdbTime(0), "1970-01-01T00:00:00Z");
  assert.equal(gocdbTime(NOW), "2024-05-01T12:00:00Z");
});

test("the GET asks by site, space and service type; the PUT goes to the service's ExtensionProperties (U829, U886)", () => {
  const get = new URL(serviceEndpointUrl("https://goc.example.org/", "UKI-SITE", "vac01.example.org"));
  assert.equal(get.origin + get.pathname, "https://goc.example.org/gocdbpi/public/");
  assert.deepEqual(Object.fromEntries(get.searchParams), {
    method: "get_service_endpoint",
    sitename: "UKI-SITE",
    hostname: "vac01.example.org",
    service_type: "uk.ac.gridpp.vac",
  });
  assert.equal(
    new URL(serviceEndpointUrl("https://h", "A&B=C", "s")).searchParams.get("sitename"),
    "A&B=C",
    "values are encoded, not spliced",
  );
  assert.equal(
    extensionPropertiesUrl("https://goc.egi.eu", "1234"),
    "https://goc.egi.eu/gocdbpi/v5/Service/1234/ExtensionProperties",
  );
});

test("the service id is the first SERVICE_ENDPOINT's PRIMARY_KEY up to its G (U838-842); anything else is refused", () => {
  const xml = (attrs: string) =>
    `<?xml version="1.0"?>\n<results>\n <SERVICE_ENDPOINT ${attrs}>\n  <HOSTNAME>s</HOSTNAME>\n </SERVICE_ENDPOINT>\n</results>`;
  assert.deepEqual(serviceIdFromXml(xml('PRIMARY_KEY="5678G0"')), { id: "5678" });
  assert.deepEqual(serviceIdFromXml(xml("ID='1' PRIMARY_KEY='42G0'")), { id: "42" });
  assert.deepEqual(serviceIdFromXml(`${xml('PRIMARY_KEY="1G0"')}<SERVICE_ENDPOINT PRIMARY_KEY="2G0">`), {
    id: "1",
  });
  for (const [bad, why] of [
    ["<results/>", /no SERVICE_ENDPOINT/],
    [xml('ID="3"'), /no PRIMARY_KEY/],
    [xml('PRIMARY_KEY="../../x"'), /not NNNGN/],
    [xml('PRIMARY_KEY="12/ExtensionPropertiesG0"'), /not NNNGN/],
    [xml('PRIMARY_KEY=""'), /not NNNGN/],
  ] as const) {
    const r = serviceIdFromXml(bad);
    assert.ok("problem" in r, bad);
    assert.match((r as { problem: string }).problem, why);
  }
});
