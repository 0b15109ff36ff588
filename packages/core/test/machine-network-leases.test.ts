/**
 * Vac 3's machine network, as pure data: one lease per slot (S763, S2354-2362; every slot, not
 * only 0-99), the network XML vacd defines (NAT or isolated for tests, forward_dev, a named
 * bridge, not Vac's assumed virbr1), the check of what libvirt holds, `clean-traffic` with the
 * slot's IP (S1931 had none), and what the MJF URL substitutions become per contract (S1539-1554).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkNetworkSlots,
  type DomainSpec,
  leaseChanges,
  leaseXml,
  type MachineNetworkSpec,
  mjfUrls,
  networkXmlDifferences,
  renderDomainXml,
  renderNetworkXml,
  slotIpAddress,
  slotNetworkMac,
  slotOfIpAddress,
} from "../src/index.js";
import { loadTexts } from "./config-load-helpers.js";

const names = (n: number) =>
  Array.from({ length: n }, (_, i) => `wn01-${String(i).padStart(2, "0")}.example.com`);
const spec = (over: Partial<MachineNetworkSpec> = {}): MachineNetworkSpec => ({
  name: "vac_169.254.0.0",
  bridge: "vacbr0",
  forward: "nat",
  forwardDev: undefined,
  machineNames: names(3),
  ...over,
});

test("slot N leases 169.254.169.N with MAC 56:4D:A9:FE:A9:<N in hex>, as Vac made them (S2356-2358)", () => {
  assert.equal(slotIpAddress(0), "169.254.169.0");
  assert.equal(slotNetworkMac(0), "56:4D:A9:FE:A9:00");
  assert.equal(slotIpAddress(171), "169.254.169.171");
  assert.equal(slotNetworkMac(171), "56:4D:A9:FE:A9:AB");
  assert.equal(slotNetworkMac(252), "56:4D:A9:FE:A9:FC");
});

test("slots 253 and up have no lease: the MJF and metadata addresses are not a slot's", () => {
  assert.throws(() => slotIpAddress(253), { code: "VAC_ERR_MACHINE_NETWORK_SLOTS" });
  assert.throws(() => slotNetworkMac(254), { code: "VAC_ERR_MACHINE_NETWORK_SLOTS" });
  assert.throws(() => checkNetworkSlots(254), { code: "VAC_ERR_MACHINE_NETWORK_SLOTS" });
  checkNetworkSlots(253);
  assert.equal(slotOfIpAddress("169.254.169.7"), 7);
  assert.equal(slotOfIpAddress("::ffff:169.254.169.7"), 7);
  for (const a of [
    "169.254.169.253",
    "169.254.169.254",
    "169.254.169.255",
    "169.254.169.07",
    "169.254.170.7",
    "10.0.0.7",
    "169.254.169.1000",
  ])
    assert.equal(slotOfIpAddress(a), undefined, a);
});

test("the network has a lease for every slot, not only 0-99 (S2354)", () => {
  const xml = renderNetworkXml(spec({ machineNames: names(200) }));
  assert.equal(xml.match(/<host /g)?.length, 200);
  assert.match(xml, /<host mac="56:4D:A9:FE:A9:C7" name="wn01-199.example.com" ip="169.254.169.199"\/>/);
  assert.match(xml, /<ip address="169.254.169.253" netmask="255.255.0.0">/);
  assert.match(xml, /<bridge name="vacbr0"/);
  assert.match(xml, /<forward mode="nat"\/>/);
  assert.throws(() => renderNetworkXml(spec({ machineNames: names(254) })), {
    code: "VAC_ERR_MACHINE_NETWORK_SLOTS",
  });
});

test("forward_dev is honoured, and forwarding none is an isolated network with no <forward>", () => {
  assert.match(renderNetworkXml(spec({ forwardDev: "eth1" })), /<forward mode="nat" dev="eth1"\/>/);
  assert.doesNotMatch(renderNetworkXml(spec({ forward: "none" })), /forward/);
  assert.throws(() => renderNetworkXml(spec({ forwardDev: "eth1'><x" })), { code: "VAC_ERR_UNSAFE_NAME" });
  assert.throws(() => renderNetworkXml(spec({ bridge: "a-bridge-name-too-long" })), {
    code: "VAC_ERR_UNSAFE_NAME",
  });
});

/** What `virsh net-dumpxml` gives back for a network defined from our XML (libvirt's own form). */
const DUMPED = `<network>
  <name>vac_169.254.0.0</name>
  <uuid>4d7a2ac1-8d2e-4d0d-9a8e-6a0c1b1c0d11</uuid>
  <forward mode='nat'>
    <nat><port start='1024' end='65535'/></nat>
  </forward>
  <bridge name='vacbr0' stp='on' delay='0'/>
  <mac address='52:54:00:aa:bb:cc'/>
  <ip address='169.254.169.253' netmask='255.255.0.0'>
    <dhcp>
      <host mac='56:4d:a9:fe:a9:00' name='wn01-00.example.com' ip='169.254.169.0'/>
      <host mac='56:4d:a9:fe:a9:01' name='wn01-01.example.com' ip='169.254.169.1'/>
      <host mac='56:4d:a9:fe:a9:02' name='wn01-02.example.com' ip='169.254.169.2'/>
    </dhcp>
  </ip>
</network>`;

test("libvirt's own rendering of our network passes the check; each difference is named", () => {
  assert.deepEqual(networkXmlDifferences(DUMPED, spec()), []);
  assert.deepEqual(networkXmlDifferences(DUMPED.replace("169.254.169.253", "192.168.122.1"), spec()), [
    "bridge address is not 169.254.169.253",
  ]);
  assert.deepEqual(networkXmlDifferences(DUMPED, spec({ bridge: "virbr1" })), ["bridge is not virbr1"]);
  assert.deepEqual(networkXmlDifferences(DUMPED, spec({ forward: "none" })), [
    "forwarding (nat) where none was asked",
  ]);
  assert.deepEqual(networkXmlDifferences(DUMPED, spec({ forwardDev: "eth0" })), ["forward_dev is not eth0"]);
  assert.deepEqual(leaseChanges(DUMPED, spec()), { remove: [], add: [] });
});

test("lease changes in place: a slot added, a slot gone, a renamed factory", () => {
  assert.deepEqual(leaseChanges(DUMPED, spec({ machineNames: names(4) })), {
    remove: [],
    add: [{ mac: "56:4D:A9:FE:A9:03", name: "wn01-03.example.com", ip: "169.254.169.3" }],
  });
  assert.deepEqual(leaseChanges(DUMPED, spec({ machineNames: names(2) })), {
    remove: [{ mac: "56:4d:a9:fe:a9:02", name: "wn01-02.example.com", ip: "169.254.169.2" }],
    add: [],
  });
  const renamed = leaseChanges(DUMPED, spec({ machineNames: ["wn09-00.example.com"] }));
  assert.equal(renamed.remove.length, 3);
  assert.deepEqual(renamed.add, [
    { mac: "56:4D:A9:FE:A9:00", name: "wn09-00.example.com", ip: "169.254.169.0" },
  ]);
  assert.equal(
    leaseXml({ mac: "56:4D:A9:FE:A9:00", name: "a'b", ip: "169.254.169.0" }),
    '<host mac="56:4D:A9:FE:A9:00" name="a&apos;b" ip="169.254.169.0"/>',
  );
});

const domain: DomainSpec = {
  name: "wn01-05.example.com",
  uuid: "0f8fad5b-d9cb-469f-a165-70867728950e",
  domainType: "qemu",
  memoryMb: 512,
  vcpus: 1,
  boot: { kind: "disk" },
  rootDisk: undefined,
  scratchDisk: undefined,
  contextIso: "/m/context.iso",
  machinefeatures: "/m/machinefeatures",
  jobfeatures: "/m/jobfeatures",
  joboutputs: "/m/joboutputs",
  consoleLog: "/m/console.log",
  mac: slotNetworkMac(5),
  network: { kind: "vac", network: "vac_169.254.0.0", ip: slotIpAddress(5), filter: "clean-traffic" },
};

test("a machine on Vac's network: its slot's MAC, and clean-traffic bound to its slot's IP, always (S1931)", () => {
  const xml = renderDomainXml(domain);
  assert.match(
    xml,
    /<interface type="network">\s*<mac address="56:4D:A9:FE:A9:05"\/>\s*<source network="vac_169.254.0.0"\/>\s*<model type="virtio"\/>\s*<filterref filter="clean-traffic">\s*<parameter name="IP" value="169.254.169.5"\/>\s*<\/filterref>\s*<\/interface>/,
  );
});

const CONFIG = `[settings]
vac_space = vac01.example.com
factories = .
[machinetype vm3]
target_share = 1
machine_model = vm-raw
network = vac
[machinetype seed]
target_share = 1
machine_model = vm-raw
[machinetype both]
target_share = 1
network = vac
machine_contract = seed
smbios_identity = none
[machinetype told]
target_share = 1
machine_model = vm-raw
network = bridge:br0
smbios_identity = openstack
`;

test("network = vac chooses the Vac 3 contract unless machine_contract says seed, and a guest that says OpenStack Nova; machine network settings", () => {
  const r = loadTexts({ "/r/etc/vac.conf": CONFIG });
  assert.deepEqual(r.problems, []);
  const byName = new Map(r.config?.machinetypes.map((m) => [m.name, m]));
  assert.equal(byName.get("vm3")?.machineContract, "vac3");
  assert.equal(byName.get("seed")?.machineContract, "seed");
  assert.equal(byName.get("both")?.machineContract, "seed");
  // The guest says OpenStack Nova (for cloud-init's OpenStack datasource) where the metadata server is.
  assert.deepEqual(
    ["vm3", "seed", "both", "told"].map((n) => byName.get(n)?.smbiosIdentity),
    ["openstack", "none", "none", "openstack"],
  );
  const s = r.config?.settings;
  assert.deepEqual(
    [
      s?.machineNetworkName,
      s?.machineNetworkBridge,
      s?.machineNetworkForward,
      s?.forwardDev,
      s?.fixNetworking,
      s?.machineNetworkHosts,
    ],
    ["vac_169.254.0.0", "vacbr0", "nat", undefined, true, true],
  );
  const t = loadTexts({
    "/r/etc/vac.conf": CONFIG.replace(
      "factories = .",
      "factories = .\nforward_dev = eth1\nfix_networking = no\nmachine_network_name = vac-test\nmachine_network_bridge = vactest0\nmachine_network_forward = none\nmachine_network_hosts = no",
    ),
  });
  assert.deepEqual(t.problems, []);
  const u = t.config?.settings;
  assert.deepEqual(
    [
      u?.machineNetworkName,
      u?.machineNetworkBridge,
      u?.machineNetworkForward,
      u?.forwardDev,
      u?.fixNetworking,
      u?.machineNetworkHosts,
    ],
    ["vac-test", "vactest0", "none", "eth1", false, false],
  );
});

test("a slot count the machine network cannot address is refused with a clear message", () => {
  const r = loadTexts({
    "/r/etc/vac.conf": CONFIG.replace("factories = .", "factories = .\ntotal_machines = 254"),
  });
  assert.equal(r.config, undefined);
  const p = r.problems.find((x) => x.code === "VAC_ERR_CONFIG_BAD_VALUE");
  assert.match(
    p?.message ?? "",
    /total_machines = '254': expected at most 253 slots while a machinetype has network = vac/,
  );
  const fine = loadTexts({
    "/r/etc/vac.conf": CONFIG.replace("network = vac\n", "")
      .replace("network = vac\n", "")
      .replace("factories = .", "factories = .\ntotal_machines = 254"),
  });
  assert.ok(fine.config, "without network = vac, any slot count");
  // total_processors made the count: named, at its line.
  const byProcessors = loadTexts(
    { "/r/etc/vac.conf": CONFIG.replace("factories = .", "factories = .\ntotal_processors = 300") },
    { hostProcessors: 300 },
  );
  const p2 = byProcessors.problems.find((x) => x.code === "VAC_ERR_CONFIG_BAD_VALUE");
  assert.match(
    p2?.message ?? "",
    /^\/r\/etc\/vac\.conf:\d+: total_processors = '300': expected at most 253 slots/,
  );
  // Neither set: the host's processors made it, so the network line is named, with what to set.
  const byHost = loadTexts({ "/r/etc/vac.conf": CONFIG }, { hostProcessors: 300 });
  const p3 = byHost.problems.find((x) => x.code === "VAC_ERR_CONFIG_BAD_VALUE");
  assert.equal(byHost.config, undefined);
  assert.match(
    p3?.message ?? "",
    /^\/r\/etc\/vac\.conf:\d+: network = 'vac': expected at most 253 slots .*: this host's 300 processors make 300 slots, so set total_machines$/,
  );
});

test("network = vac with hypervisor_ssh is refused at load, at each machinetype's network line and the ssh line", () => {
  const r = loadTexts({
    "/r/etc/vac.conf": CONFIG,
    "/r/etc/vac.d/hypervisor.conf": "[settings]\nhypervisor_ssh = root@hv1.example.com\n",
  });
  assert.equal(r.config, undefined, "a configuration that cannot start its machines is not used");
  const refused = r.problems.filter((p) => p.code === "VAC_ERR_CONFIG_NETWORK_NOT_LOCAL");
  assert.deepEqual(
    refused.map((p) => [p.severity, p.file, p.line]),
    [
      ["error", "/r/etc/vac.conf", 7],
      ["error", "/r/etc/vac.conf", 13],
    ],
  );
  assert.match(
    refused[0]?.message ?? "",
    /^\/r\/etc\/vac\.conf:7: \[machinetype vm3\] network = vac cannot work with hypervisor_ssh = root@hv1\.example\.com \(\/r\/etc\/vac\.d\/hypervisor\.conf:2\): the machine network and its metadata \(169\.254\.169\.254\) and MJF \(169\.254\.169\.253\) servers must be on the host vacd runs on/,
  );
  assert.match(refused[1]?.message ?? "", /\[machinetype both\]/);
  const withoutVac = loadTexts({
    "/r/etc/vac.conf": CONFIG.replaceAll("network = vac\n", "network = user\n"),
    "/r/etc/vac.d/hypervisor.conf": "[settings]\nhypervisor_ssh = root@hv1.example.com\n",
  });
  assert.deepEqual(withoutVac.problems, [], "hypervisor_ssh with other networks loads");
  assert.ok(withoutVac.config);
});

test("the MJF URLs in user_data: HTTP for the Vac 3 contract, plain paths for seed-era VMs and process machines", () => {
  assert.deepEqual(mjfUrls({ machineModel: "vm-raw", machineContract: "vac3" }, "/m"), {
    machinefeaturesUrl: "http://169.254.169.253/machinefeatures",
    jobfeaturesUrl: "http://169.254.169.253/jobfeatures",
    joboutputsUrl: "http://169.254.169.253/joboutputs",
  });
  assert.deepEqual(mjfUrls({ machineModel: "cernvm3", machineContract: "seed" }, "/m"), {
    machinefeaturesUrl: "/etc/machinefeatures",
    jobfeaturesUrl: "/etc/jobfeatures",
    joboutputsUrl: "/etc/machineoutputs",
  });
  assert.deepEqual(
    mjfUrls({ machineModel: "process", machineContract: "vac3" }, "/var/lib/vac/machines/1_a_b"),
    {
      machinefeaturesUrl: "/var/lib/vac/machines/1_a_b/machinefeatures",
      jobfeaturesUrl: "/var/lib/vac/machines/1_a_b/jobfeatures",
      joboutputsUrl: "/var/lib/vac/machines/1_a_b/joboutputs",
    },
  );
});
