/** Configuration files as sites wrote them for the original Vac are accepted unchanged. */
import assert from "node:assert/strict";
import { test } from "node:test";
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
  assert.deepEqual(r.problems, []);
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
  const r = loadTexts({ "/r/etc/vac.conf": VAC_2017 }, { hostname: "vac02.example.ac.uk", existing });
  assert.deepEqual(r.problems, []);
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
});
