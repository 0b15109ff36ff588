/** [vacuum_pipe PREFIX] merged into machinetypes as Vac 3.1 did (S404-560), from a cached document. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type LoadConfigResult, loadConfig, vacPaths } from "../src/index.js";

const ROOT = "/r";
const URL = "https://repo.example.org/lhcb.pipe";
const SETTINGS = `[settings]
vac_space = vac01.example.com
factories = wn01.example.com
`;

function load(conf: string, pipe: unknown, existing: string[] = []): LoadConfigResult {
  return loadConfig({
    files: [{ path: "/r/etc/vac.conf", text: SETTINGS + conf }],
    paths: vacPaths(ROOT),
    hostname: "wn01.example.com",
    hostProcessors: 8,
    fileExists: (p) => existing.includes(p),
    pipeDocument: (prefix) =>
      prefix === "lhcb" && pipe !== undefined
        ? typeof pipe === "string"
          ? pipe
          : JSON.stringify(pipe)
        : undefined,
  });
}

const PIPE = {
  cache_seconds: 600,
  machinetypes: [
    {
      suffix: "prod",
      target_share: 3.0,
      machine_model: "cernvm3",
      root_image: "https://repo.example.org/cernvm3.iso",
      user_data: "https://repo.example.org/user_data",
      backoff_seconds: 600,
      max_wallclock_seconds: 86400,
      min_wallclock_seconds: 9000,
    },
    { suffix: "test", target_share: 1.0, user_data: "user_data", heartbeat_file: "heartbeat" },
  ],
};

test("each entry becomes PREFIX-SUFFIX and the section's share is split by the document's shares (S439-444, S513-522)", () => {
  const r = load(`[vacuum_pipe lhcb]\nvacuum_pipe_url = ${URL}\ntarget_share = 8\n`, PIPE, [
    "/r/var/lib/vac/machinetypes/lhcb/files/user_data",
  ]);
  assert.deepEqual(
    r.problems.filter((p) => p.severity === "error"),
    [],
  );
  const names = r.config?.machinetypes.map((m) => m.name);
  assert.deepEqual(names, ["lhcb-prod", "lhcb-test"]);
  const prod = r.config?.machinetypes[0];
  const tst = r.config?.machinetypes[1];
  assert.equal(prod?.targetShare, 6);
  assert.equal(tst?.targetShare, 2);
  assert.equal(prod?.rootImage, "https://repo.example.org/cernvm3.iso", "a URL stays a URL");
  assert.equal(prod?.backoffSeconds, 600);
  assert.equal(prod?.pipe, "lhcb");
  assert.equal(
    tst?.userData,
    "/r/var/lib/vac/machinetypes/lhcb/files/user_data",
    "files are in the prefix's directory (S469)",
  );
  assert.equal(r.config?.sources.get("machinetype lhcb-prod.backoff_seconds")?.file, URL);
  assert.deepEqual(
    r.config?.vacuumPipes?.map((p) => [p.prefix, p.url, p.targetShare]),
    [["lhcb", URL, 8]],
  );
});

test("vac.conf's [machinetype PREFIX-SUFFIX] wins over the pipe section, which wins over the document", () => {
  const r = load(
    `[vacuum_pipe lhcb]\nvacuum_pipe_url = ${URL}\ntarget_share = 8\nbackoff_seconds = 100\nfizzle_seconds = 700\nuser_data_option_site = X\n` +
      `[machinetype lhcb-prod]\nbackoff_seconds = 50\ntarget_share = 1\n`,
    PIPE,
    ["/r/var/lib/vac/machinetypes/lhcb/files/user_data"],
  );
  const prod = r.config?.machinetypes.find((m) => m.name === "lhcb-prod");
  assert.equal(prod?.backoffSeconds, 50);
  assert.equal(prod?.targetShare, 1);
  assert.equal(prod?.fizzleSeconds, 700);
  assert.deepEqual(prod?.userDataOptions, { site: "X" });
  assert.equal(r.config?.machinetypes.find((m) => m.name === "lhcb-test")?.backoffSeconds, 100);
});

test("a pipe with no cached document adds no machinetypes, and vac.conf's own sections stand", () => {
  const r = load(
    `[vacuum_pipe lhcb]\nvacuum_pipe_url = ${URL}\ntarget_share = 8\n[machinetype other]\ntarget_share = 1\nmachine_model = process\n`,
    undefined,
  );
  assert.deepEqual(
    r.config?.machinetypes.map((m) => m.name),
    ["other"],
  );
  assert.equal(r.config?.vacuumPipes?.length, 1, "vacd still knows to fetch it");
  assert.deepEqual(
    load(`[vacuum_pipe lhcb]\nvacuum_pipe_url = ${URL}\n`, "not json").config?.machinetypes,
    [],
  );
});

const refused: [string, Record<string, unknown>, RegExp][] = [
  ["an option a pipe may not set", { network: "bridge:br0" }, /not an option a pipe may set/],
  ["a user_data path", { user_data: "../../etc/passwd" }, /without \//],
  ["a user_data_file_ path", { user_data_file_cert: "/etc/shadow" }, /without \//],
  ["a heartbeat_file path", { heartbeat_file: "a/b" }, /without \//],
  ["a URL with /../", { root_image: "https://repo.example.org/a/../b.iso" }, /\/\.\.\//],
  ["a value of the wrong type", { max_processors: "many" }, /expected a whole number/],
  ["an object value", { accounting_fqan: { a: 1 } }, /not a string, number or boolean/],
  [
    "machine_model = process, which would run user_data on the factory",
    { machine_model: "Process" },
    /only vac.conf/,
  ],
  ["a root_image path outside /cvmfs", { root_image: "/etc/shadow" }, /without \//],
];
for (const [what, entry, reason] of refused) {
  test(`a document's option is ignored with a warning, never an error: ${what} (S524-556)`, () => {
    const r = load(`[vacuum_pipe lhcb]\nvacuum_pipe_url = ${URL}\ntarget_share = 1\n`, {
      machinetypes: [{ suffix: "prod", target_share: 1, machine_model: "vm-raw", ...entry }],
    });
    assert.ok(r.config, "the configuration stays valid");
    const w = r.problems.find((p) => p.code === "VAC_ERR_PIPE_OPTION");
    assert.ok(w, "warned");
    assert.equal(w.severity, "warning");
    assert.match(w.message, reason);
    assert.ok(r.config.machinetypes.some((m) => m.name === "lhcb-prod"));
  });
}

test("a pipe machinetype runs as a local process only when vac.conf says so, not by the [settings] default", () => {
  const conf = (section: string) =>
    `[settings]\nmachine_model = process\n[vacuum_pipe lhcb]\nvacuum_pipe_url = ${URL}\n${section}`;
  const doc = { machinetypes: [{ suffix: "prod", user_data: "https://repo.example.org/ud" }] };
  const byDefault = load(conf(""), doc);
  assert.deepEqual(byDefault.config?.machinetypes, []);
  assert.match(
    byDefault.problems.find((p) => p.code === "VAC_ERR_PIPE_OPTION")?.message ?? "",
    /machine_model/,
  );
  const chosen = load(conf("machine_model = process\n"), doc);
  assert.equal(chosen.config?.machinetypes[0]?.machineModel, "process");
});

test("a /cvmfs root_image that is there is taken, as Vac allowed (S548-553)", () => {
  const r = load(
    `[vacuum_pipe lhcb]\nvacuum_pipe_url = ${URL}\n`,
    {
      machinetypes: [{ suffix: "prod", machine_model: "vm-raw", root_image: "/cvmfs/x.example.org/a.img" }],
    },
    ["/r/cvmfs/x.example.org/a.img"],
  );
  assert.equal(r.config?.machinetypes[0]?.rootImage, "/r/cvmfs/x.example.org/a.img");
  const missing = load(`[vacuum_pipe lhcb]\nvacuum_pipe_url = ${URL}\n`, {
    machinetypes: [{ suffix: "prod", machine_model: "vm-raw", root_image: "/cvmfs/x.example.org/b.img" }],
  });
  assert.deepEqual(missing.config?.machinetypes, []);
  assert.match(missing.problems[0]?.message ?? "", /no file \/r\/cvmfs/);
});

test("a document naming a local file that is not there drops that machinetype, with a warning", () => {
  const r = load(`[vacuum_pipe lhcb]\nvacuum_pipe_url = ${URL}\n`, {
    machinetypes: [
      { suffix: "prod", user_data: "user_data" },
      { suffix: "ok", machine_model: "vm-raw" },
    ],
  });
  assert.deepEqual(
    r.config?.machinetypes.map((m) => m.name),
    ["lhcb-ok"],
  );
  assert.match(r.problems.find((p) => p.code === "VAC_ERR_PIPE_OPTION")?.message ?? "", /no file/);
});

test("suffixes must make a valid, unique machinetype name", () => {
  const r = load(`[vacuum_pipe lhcb]\nvacuum_pipe_url = ${URL}\n`, {
    machinetypes: [{ suffix: "Prod!" }, { target_share: 1 }, { suffix: "a" }, { suffix: "a" }],
  });
  assert.deepEqual(
    r.config?.machinetypes.map((m) => m.name),
    ["lhcb-a"],
  );
  assert.equal(r.problems.filter((p) => p.code === "VAC_ERR_PIPE_OPTION").length, 3);
});

test("the section needs a vacuum_pipe_url that is http(s), and a prefix of lowercase letters, digits and hyphens", () => {
  assert.equal(
    load("[vacuum_pipe lhcb]\ntarget_share = 1\n", PIPE).problems[0]?.code,
    "VAC_ERR_CONFIG_MISSING_OPTION",
  );
  assert.equal(load("[vacuum_pipe lhcb]\nvacuum_pipe_url = file:///etc/x\n", PIPE).config, undefined);
  assert.equal(
    load(`[vacuum_pipe LH_CB]\nvacuum_pipe_url = ${URL}\n`, PIPE).problems[0]?.code,
    "VAC_ERR_CONFIG_BAD_NAME",
  );
});

test("root_image and user_data may be http(s) URLs in vac.conf too, while user_data_file_X stays a local file", () => {
  const r = load(
    "[machinetype a]\ntarget_share = 1\nroot_image = https://repo.example.org/a.iso\nuser_data = http://repo.example.org/ud\nuser_data_file_x = https://repo.example.org/x\n",
    undefined,
  );
  // A user_data_file_X is a local file: a URL there is a file that is not there, which
  // disables that machinetype alone.
  assert.match(r.config?.machinetypes[0]?.disabled ?? "", /user_data_file_x/);
  assert.match(r.problems.map((p) => p.message).join("\n"), /user_data_file_x/);
  const ok = load(
    "[machinetype a]\ntarget_share = 1\nroot_image = https://repo.example.org/a.iso\nuser_data = http://repo.example.org/ud\n",
    undefined,
  );
  assert.equal(ok.config?.machinetypes[0]?.rootImage, "https://repo.example.org/a.iso");
  assert.equal(ok.config?.machinetypes[0]?.userData, "http://repo.example.org/ud");
});

test("a [vacuum_pipe] target_share that is not a number is 0, as Vac took it (S421-424), with a warning", () => {
  const r = load(`[vacuum_pipe lhcb]\nvacuum_pipe_url = ${URL}\ntarget_share = lots\n`, PIPE, [
    "/r/var/lib/vac/machinetypes/lhcb/files/user_data",
  ]);
  assert.ok(r.config, JSON.stringify(r.problems));
  assert.deepEqual(
    r.problems.map((p) => [p.severity, p.code, p.line]),
    [
      ["warning", "VAC_ERR_CONFIG_VALUE_IGNORED", 6],
      ["warning", "VAC_ERR_CONFIG_NO_SHARES", 0],
    ],
  );
  assert.deepEqual(
    r.config.machinetypes.map((m) => m.targetShare),
    [0, 0],
  );
});
