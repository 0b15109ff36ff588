/** Configuration files as sites wrote them for the original Vac are accepted unchanged. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  findLegacyOption,
  loadConfig,
  OBSOLETE_OPTIONS,
  OPTION_DEFINITIONS,
  vacPaths,
} from "../src/index.js";
import { FILES, loadTexts } from "./config-load-helpers.js";

const VAC_2013_VM = `# /etc/vac-virtualmachines.conf, Vac 0.x style
[vmtype lhcbprod]
root_image = /var/lib/vac/images/cernvm-batch-node.iso
rootpublickey = /root/.ssh/id_rsa.pub
user_data = /var/lib/vac/vmtypes/lhcbprod/user_data
prolog = /var/lib/vac/vmtypes/lhcbprod/prolog.sh
epilog = /var/lib/vac/vmtypes/lhcbprod/epilog.sh
backoff_seconds = 600
fizzle_seconds = 600
max_wallclock_seconds = 100000
`;
const VAC_2013_FACTORIES = `[factories]
names = vac01.tier2.hep.manchester.ac.uk vac02.tier2.hep.manchester.ac.uk
`;
const VAC_2013_SHARES = `[targetshares]
lhcbprod = 0.9
`;
const VAC_2013_MAIN = `[settings]
vac_space = vac01.tier2.hep.manchester.ac.uk
domain_type = kvm
mb_per_machine = 2048
total_machines = 8
`;

test("a 2013-style configuration: [vmtype], [factories] names, [targetshares], prolog/epilog, mb_per_machine", () => {
  const existing = [
    "/r/var/lib/vac/images/cernvm-batch-node.iso",
    "/r/var/lib/vac/vmtypes/lhcbprod/user_data",
    "/r/var/lib/vac/vmtypes/lhcbprod/prolog.sh",
    "/r/var/lib/vac/vmtypes/lhcbprod/epilog.sh",
  ];
  const r = loadTexts(
    {
      "/r/etc/vac-virtualmachines.conf": VAC_2013_VM.replace("rootpublickey = /root/.ssh/id_rsa.pub\n", ""),
      "/r/etc/vac-factories.conf": VAC_2013_FACTORIES,
      "/r/etc/vac-targetshares.conf": VAC_2013_SHARES,
      "/r/etc/vac.conf": VAC_2013_MAIN,
    },
    { hostname: "vac01.tier2.hep.manchester.ac.uk", existing },
  );
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.severity, p.file.replace("/r/etc/", ""), p.line]),
    [
      ["VAC_ERR_CONFIG_OLD_NAME", "warning", "vac-virtualmachines.conf", 2],
      ["VAC_ERR_CONFIG_OLD_NAME", "warning", "vac-factories.conf", 2],
      ["VAC_ERR_CONFIG_OLD_NAME", "warning", "vac-targetshares.conf", 1],
      ["VAC_ERR_CONFIG_OLD_NAME", "warning", "vac.conf", 4],
    ],
  );
  const c = r.config!;
  assert.equal(c.settings.vacSpace, "vac01.tier2.hep.manchester.ac.uk");
  assert.equal(c.settings.mbPerProcessor, 2048);
  assert.equal(c.settings.totalMachines, 8);
  assert.deepEqual(
    c.settings.factories.map((f) => [f.name, f.port]),
    [
      ["vac01.tier2.hep.manchester.ac.uk", 995],
      ["vac02.tier2.hep.manchester.ac.uk", 995],
    ],
  );
  const mt = c.machinetypes[0]!;
  assert.equal(mt.name, "lhcbprod");
  assert.equal(mt.targetShare, 0.9);
  assert.equal(mt.rootImage, "/r/var/lib/vac/images/cernvm-batch-node.iso");
  assert.equal(mt.prolog, "/r/var/lib/vac/vmtypes/lhcbprod/prolog.sh");
  assert.equal(mt.epilog, "/r/var/lib/vac/vmtypes/lhcbprod/epilog.sh");
  assert.equal(mt.backoffSeconds, 600);
  assert.equal(mt.maxWallclockSeconds, 100000);
  assert.equal(mt.minWallclockSeconds, 100000);
  assert.equal(mt.machineModel, "cernvm3");
  assert.equal(c.sources.get("machinetype lhcbprod.target_share")?.file, "/r/etc/vac-targetshares.conf");
});

const VAC_2017 = `[settings]
vac_space = vac01.example.ac.uk
factories = vac01.example.ac.uk
            vac02.example.ac.uk
            vac03.example.ac.uk
total_processors = 32
hs06_per_processor = 10.5
user_data_option_cvmfs_proxy = http://squid.example.ac.uk:3128

; LHCb
[machinetype lhcb]
target_share = 3
machinegroup = lhcb
root_image = cernvm4.iso
user_data = lhcb.user_data
user_data_option_dirac_site = VAC.Example.uk
user_data_file_hostcert = hostcert.pem
min_processors = 1
max_processors = 8
heartbeat_file = vm-heartbeat
heartbeat_seconds = 600
accounting_fqan = /lhcb/Role=NULL/Capability=NULL

[machinetype atlas]
target_share: 2
root_image = cernvm4.iso
user_data = atlas.user_data
`;

test("a 2017-style configuration: target_share, continuation lines, user_data_option_*, user_data_file_*", () => {
  const existing = [
    "lhcb/files/cernvm4.iso",
    "lhcb/files/lhcb.user_data",
    "lhcb/files/hostcert.pem",
    "atlas/files/cernvm4.iso",
    "atlas/files/atlas.user_data",
  ].map((f) => `${FILES}/${f}`);
  // total_processors = 32 was refused by Vac on a host with fewer (S239-245): this one has 32.
  const r = loadTexts(
    { "/r/etc/vac.conf": VAC_2017 },
    { hostname: "vac02.example.ac.uk", existing, hostProcessors: 32 },
  );
  // accounting_fqan (line 22) works now that accounting records are written: no problem at all.
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.line]),
    [],
  );
  const c = r.config!;
  assert.deepEqual(
    c.settings.factories.map((f) => f.name),
    ["vac01.example.ac.uk", "vac02.example.ac.uk", "vac03.example.ac.uk"],
  );
  assert.equal(c.settings.factoryName, "vac02.example.ac.uk");
  assert.equal(c.settings.totalProcessors, 32);
  assert.equal(c.settings.totalMachines, 32);
  assert.equal(c.settings.hs06PerProcessor, 10.5);
  assert.equal(c.settings.gocdbSitename, "example.ac.uk");
  const [lhcb, atlas] = c.machinetypes;
  assert.equal(lhcb?.targetShare, 3);
  assert.equal(lhcb?.maxProcessors, 8);
  assert.equal(lhcb?.heartbeatFile, "vm-heartbeat");
  assert.equal(lhcb?.rootImage, `${FILES}/lhcb/files/cernvm4.iso`);
  assert.deepEqual(lhcb?.userDataOptions, {
    cvmfs_proxy: "http://squid.example.ac.uk:3128",
    dirac_site: "VAC.Example.uk",
  });
  assert.equal(lhcb?.userDataFiles.hostcert, `${FILES}/lhcb/files/hostcert.pem`);
  assert.equal(atlas?.targetShare, 2);
  assert.equal(atlas?.machinegroup, "atlas");
  assert.deepEqual(atlas?.userDataOptions, { cvmfs_proxy: "http://squid.example.ac.uk:3128" });
  assert.deepEqual(c.sources.get("machinetype atlas.target_share"), { file: "/r/etc/vac.conf", line: 25 });
});

test("option names are case-insensitive and `.` in factories means this factory, with :port", () => {
  const r = loadTexts({
    "/r/etc/vac.conf": `[settings]\nVAC_SPACE = s.example.com\nFactories = . wn02.example.com:9000\nUDP_Port = 996\n[machinetype a]\ntarget_share=1\n`,
  });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(
    r.config?.settings.factories.map((f) => `${f.name}:${f.port}`),
    ["wn01.example.com:996", "wn02.example.com:9000"],
  );
});

test("obsolete options of the original Vac are accepted with a warning", () => {
  const r = loadTexts({
    "/r/etc/vac.conf": `[settings]\nvac_space = s.example.com\nfactories = .\nbridge_device = br0\n[machinetype a]\ntarget_share=1\n`,
  });
  assert.ok(r.config);
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.severity, p.line]),
    [["VAC_ERR_CONFIG_OBSOLETE_OPTION", "warning", 4]],
  );
  assert.match(r.problems[0]?.message ?? "", /is ignored: machines are not bridged onto the site network/);
});

test("[vmtype NAME] relative files are under /var/lib/vac/vmtypes/NAME, [machinetype NAME] ones under its files/", () => {
  const r = loadTexts(
    {
      "/r/etc/vac.conf": `[settings]\nvac_space = s.example.com\nfactories = .\n[vmtype old]\ntarget_share = 1\nuser_data = user_data\nuser_data_file_cert = cert.pem\n[machinetype new]\ntarget_share = 1\nuser_data = user_data\n`,
    },
    {
      existing: [
        "/r/var/lib/vac/vmtypes/old/user_data",
        "/r/var/lib/vac/vmtypes/old/cert.pem",
        `${FILES}/new/files/user_data`,
      ],
    },
  );
  assert.ok(r.config, JSON.stringify(r.problems));
  const [old, neu] = r.config.machinetypes;
  assert.equal(old?.userData, "/r/var/lib/vac/vmtypes/old/user_data");
  assert.equal(old?.userDataFiles.cert, "/r/var/lib/vac/vmtypes/old/cert.pem");
  assert.equal(neu?.userData, `${FILES}/new/files/user_data`);
  const escaping = loadTexts({
    "/r/etc/vac.conf": `[settings]\nvac_space = s.example.com\nfactories = .\n[vmtype old]\nuser_data = ../other/user_data\n`,
  });
  assert.equal(escaping.config, undefined);
  assert.equal(escaping.problems.find((p) => p.severity === "error")?.code, "VAC_ERR_CONFIG_PATH_ESCAPES");
});

test("Vac's number types: float() options take decimals, int() options do not, 0 disk is the default", () => {
  const head = "[settings]\nvac_space = s.example.com\nfactories = .\n";
  const r = loadTexts({
    "/r/etc/vac.conf": `${head}udp_timeout_seconds = 5.0\noverload_per_processor = 1.5\nhs06_per_processor = 9.75\ndisk_gb_per_processor = 0\n[machinetype a]\ntarget_share = 0.5\n`,
  });
  assert.deepEqual(r.problems, []);
  assert.equal(r.config?.settings.udpTimeoutSeconds, 5);
  assert.equal(r.config?.settings.overloadPerProcessor, 1.5);
  assert.equal(r.config?.settings.hs06PerProcessor, 9.75);
  assert.equal(r.config?.settings.diskGbPerProcessor, 40);
  assert.equal(r.config?.machinetypes[0]?.targetShare, 0.5);
  for (const intOption of ["[settings]\ntotal_processors = 4.0", "[machinetype a]\nbackoff_seconds = 10.5"]) {
    const bad = loadTexts({ "/r/etc/vac.conf": `${head}[machinetype a]\ntarget_share = 1\n${intOption}\n` });
    assert.equal(bad.problems[0]?.code, "VAC_ERR_CONFIG_BAD_VALUE", intOption);
  }
});

test("machinefeatures_option_* in [settings] becomes extra machinefeatures, with Vac's name check", () => {
  const head = "[settings]\nvac_space = s.example.com\nfactories = .\n";
  const r = loadTexts({
    "/r/etc/vac.conf": `${head}machinefeatures_option_site_tag = tier2\nmachinefeatures_option_hs06 = 99\n[machinetype a]\ntarget_share = 1\n`,
  });
  assert.deepEqual(r.config?.settings.machinefeaturesOptions, { site_tag: "tier2", hs06: "99" });
  const bad = loadTexts({
    "/r/etc/vac.conf": `${head}machinefeatures_option_ = x\n[machinetype a]\ntarget_share = 1\n`,
  });
  assert.equal(bad.config, undefined, "an empty name would name the directory itself");
  assert.equal(bad.problems[0]?.line, 4);
});

test("a missing file disables only its machinetype, with the reason", () => {
  const r = loadTexts(
    {
      "/r/etc/vac.conf": `[settings]\nvac_space = s.example.com\nfactories = .\n[machinetype a]\ntarget_share = 1\nroot_image = a.iso\n[machinetype b]\ntarget_share = 1\nroot_image = b.iso\n`,
    },
    { existing: [`${FILES}/b/files/b.iso`] },
  );
  assert.ok(r.config);
  const [a, b] = r.config.machinetypes;
  assert.match(
    a?.disabled ?? "",
    /^root_image '\/r\/var\/lib\/vac\/machinetypes\/a\/files\/a\.iso' is missing or unreadable \(\/r\/etc\/vac\.conf:6\)$/,
  );
  assert.equal(b?.disabled, undefined);
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.severity, p.line]),
    [["VAC_ERR_CONFIG_FILE_MISSING", "warning", 6]],
  );
  assert.match(r.problems[0]?.message ?? "", /machinetype a is disabled until it is/);
});

test("Vac 3.1's machine models: cernvm4 boots as cernvm3; singularity loads, and is disabled alone while singularity_user is unset and its binary missing", () => {
  const r = loadTexts({
    "/r/etc/vac.conf": `[settings]\nvac_space = s.example.com\nfactories = .\n[machinetype four]\ntarget_share = 1\nmachine_model = cernvm4\n[machinetype box]\ntarget_share = 1\nmachine_model = singularity\n`,
  });
  assert.ok(r.config, JSON.stringify(r.problems));
  const [four, box] = r.config.machinetypes;
  assert.equal(four?.machineModel, "cernvm3");
  assert.equal(four?.disabled, undefined);
  assert.equal(box?.machineModel, "singularity");
  assert.equal(
    box?.disabled,
    "machine_model = singularity cannot run: singularity_user is not set; machine_model = singularity cannot run: singularity_command /usr/bin/singularity is missing (install Apptainer or Singularity, or name its binary in singularity_command)",
  );
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.severity, p.line]),
    [
      ["VAC_ERR_CONFIG_SINGULARITY_UNUSABLE", "warning", 9],
      ["VAC_ERR_CONFIG_SINGULARITY_UNUSABLE", "warning", 9],
    ],
  );
});

test("singularity: singularity_user root or unknown disables the machinetype; container_command stays one argument; apptainer is accepted", () => {
  const text = (user: string) =>
    `[settings]\nvac_space = s.example.com\nfactories = .\nsingularity_user = ${user}\nsingularity_command = /opt/apptainer/bin/apptainer\n[machinetype box]\ntarget_share = 1\nmachine_model = singularity\nroot_image = /images/box.sif\ncontainer_command = /user_data 'one arg'\ncvmfs_repositories = atlas.cern.ch\n`;
  const load = (user: string) =>
    loadConfig({
      files: [{ path: "/r/etc/vac.conf", text: text(user) }],
      paths: vacPaths("/r"),
      hostname: "wn01.example.com",
      hostProcessors: 8,
      fileExists: (p) => p === "/opt/apptainer/bin/apptainer",
      dirExists: (p) => p === "/r/images/box.sif",
      userIds: (name) => ({ sing: { uid: 990, gid: 980 }, root: { uid: 0, gid: 0 } })[name],
    });
  const ok = load("sing");
  const box = ok.config?.machinetypes[0];
  assert.equal(box?.disabled, undefined, JSON.stringify(ok.problems));
  assert.deepEqual(ok.config?.settings.singularityUser, { name: "sing", uid: 990, gid: 980 });
  assert.deepEqual(box?.containerCommand, ["/user_data 'one arg'"]);
  assert.deepEqual(box?.cvmfsRepositories, ["atlas.cern.ch"]);
  assert.equal(box?.rootImage, "/r/images/box.sif", "a directory image is accepted");
  assert.match(load("root").config?.machinetypes[0]?.disabled ?? "", /singularity_user root is root/);
  assert.match(load("nobody9").config?.machinetypes[0]?.disabled ?? "", /nobody9 is not a user of this host/);
});

test("root_device and scratch_device are refused unless a-z and 0-9, as Vac refused them", () => {
  const r = loadTexts({
    "/r/etc/vac.conf": `[settings]\nvac_space = s.example.com\nfactories = .\n[machinetype a]\ntarget_share = 1\nroot_device = vda'/><x\n`,
  });
  assert.equal(r.config, undefined);
  assert.equal(r.problems[0]?.code, "VAC_ERR_CONFIG_BAD_VALUE");
});

test("an option given under its name and an older spelling takes the one read last", () => {
  const head = "[settings]\nvac_space = s.example.com\nfactories = .\n";
  const r = loadTexts({
    "/r/etc/vac.d/a.conf": `${head}total_processors = 4\ncpu_total = 6\n[machinetype a]\ntarget_share = 1\n`,
    "/r/etc/vac.conf": "[settings]\ntotal_processors = 3\n",
  });
  assert.equal(r.config?.settings.totalProcessors, 3);
  assert.deepEqual(r.config?.sources.get("settings.total_processors"), { file: "/r/etc/vac.conf", line: 2 });
});

test("user_data_option_* and user_data_file_* names are refused unless a-z, 0-9 and _, as Vac refused them", () => {
  const r = loadTexts({
    "/r/etc/vac.conf": `[settings]\nvac_space = s.example.com\nfactories = .\nuser_data_option_my-proxy = x\n[machinetype a]\ntarget_share = 1\n`,
  });
  assert.equal(r.config, undefined);
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.line]),
    [["VAC_ERR_CONFIG_BAD_VALUE", 4]],
  );
});

test("Vac 0.x [virtualmachine NAME] sections are ignored with a warning saying what replaced them", () => {
  const r = loadTexts({
    "/r/etc/vac.conf": `[settings]\nvac_space = s.example.com\nfactories = .\n[virtualmachine vm1.example.com]\nmac = 56:4D:C0:A8:01:50\n[machinetype a]\ntarget_share = 1\n`,
  });
  assert.ok(r.config);
  assert.match(
    r.problems[0]?.message ?? "",
    /'\[virtualmachine vm1\.example\.com\]' of the original Vac is ignored: machines are named/,
  );
});

test("a [settings] user_data_file_* is resolved in each machinetype's files, as Vac did, and a missing one disables only that machinetype", () => {
  const r = loadTexts(
    {
      "/r/etc/vac.conf": `[settings]\nvac_space = s.example.com\nfactories = .\nuser_data_file_cert = hostcert.pem\n[machinetype a]\ntarget_share = 1\n[machinetype b]\ntarget_share = 1\nuser_data_file_cert = /etc/b.pem\n[machinetype c]\ntarget_share = 1\n`,
    },
    { existing: [`${FILES}/a/files/hostcert.pem`, "/r/etc/b.pem"] },
  );
  assert.ok(r.config, JSON.stringify(r.problems));
  const [a, b, c] = r.config.machinetypes;
  assert.equal(a?.userDataFiles.cert, `${FILES}/a/files/hostcert.pem`);
  assert.equal(a?.disabled, undefined);
  assert.equal(b?.userDataFiles.cert, "/r/etc/b.pem");
  assert.match(
    c?.disabled ?? "",
    /user_data_file_cert '\/r\/var\/lib\/vac\/machinetypes\/c\/files\/hostcert\.pem' is missing/,
  );
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.line]),
    [["VAC_ERR_CONFIG_FILE_MISSING", 4]],
  );
});

test("section names are lower-cased as Vac did: [machinetype LHCb] is lhcb, and [factories] yields to factories in [settings]", () => {
  const r = loadTexts({
    "/r/etc/vac-factories.conf": "[factories]\nnames = old.example.com\n",
    "/r/etc/vac.conf": `[settings]\nvac_space = s.example.com\nfactories = .\n[machinetype LHCb]\ntarget_share = 1\n[factories]\nnames = other.example.com\n`,
  });
  assert.ok(r.config, JSON.stringify(r.problems));
  assert.equal(r.config.machinetypes[0]?.name, "lhcb");
  assert.deepEqual(
    r.config.settings.factories.map((f) => f.name),
    ["wn01.example.com"],
  );
});

test("no obsolete or legacy entry shadows an option that works in the same section", () => {
  for (const def of OPTION_DEFINITIONS) {
    for (const name of [def.name, ...(def.aliases ?? [])]) {
      const section = def.section === "vacuum_pipe" ? "machinetype" : def.section;
      assert.equal(findLegacyOption(section, name), undefined, `${section} ${name} is both`);
      assert.ok(!OBSOLETE_OPTIONS.has(name), `${name} is both defined and obsolete`);
    }
  }
});

test("image_signing_dn and Vac 3.1's cernvm_signing_dn both set the check (Vac stored one and read the other, S590-594, S1781)", () => {
  for (const name of ["image_signing_dn", "cernvm_signing_dn"]) {
    const r = loadTexts({
      "/r/etc/vac.conf": `[settings]\nvac_space = vac.example.org\nfactories = wn01.example.com\n\n[machinetype cernvm]\nroot_image = /images/cernvm.iso\nuser_data = /images/user_data\nmachine_model = cernvm3\n${name} = ^/DC=ch/DC=cern/OU=computers/CN=cvm-sign01\\.cern\\.ch$\n`,
    });
    assert.deepEqual(
      r.problems.filter((p) => p.severity === "error" || p.code === "VAC_ERR_CONFIG_OBSOLETE_OPTION"),
      [],
      name,
    );
    assert.equal(
      r.config?.machinetypes[0]?.imageSigningDn,
      "^/DC=ch/DC=cern/OU=computers/CN=cvm-sign01\\.cern\\.ch$",
      name,
    );
  }
  const bad = loadTexts({
    "/r/etc/vac.conf":
      "[settings]\nvac_space = vac.example.org\nfactories = wn01.example.com\n\n[machinetype cernvm]\nroot_image = /images/cernvm.iso\nuser_data = /images/user_data\nimage_signing_dn = /CN=(unclosed\n",
  });
  assert.ok(
    bad.problems.some((p) => p.code === "VAC_ERR_CONFIG_BAD_VALUE" && /image_signing_dn/.test(p.message)),
  );
});
