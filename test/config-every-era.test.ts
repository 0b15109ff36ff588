/**
 * A configuration of each era of the original Vac loads unchanged, and `vac config show --json`
 * shows the values Vac would have used. Each file is written from that era's vac.conf(5) and
 * example.vac.conf in the Vac git history (projectvacuum/vac): 0.10.0 (May 2013), 0.19.0 (2015)
 * and 3.1 (2017, S134-S740 is its readConf).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { makeTempRoot, type TempRoot } from "@vac/testkit";
import { cpuinfoText } from "@vac/vacd";
import { runVac } from "./support/vac-command.js";

interface Row {
  readonly section: string;
  readonly option: string;
  readonly value: string;
  readonly from: string;
}

/** `vac config show --json` as a map `section.option` -> value. */
async function show(
  root: TempRoot,
  factory: string,
): Promise<{ values: Map<string, string>; stderr: string }> {
  const r = await runVac(root.path, ["config", "show", "--json", "--factory-name", factory]);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Row[];
  return { values: new Map(rows.map((x) => [`${x.section}.${x.option}`, x.value])), stderr: r.stderr };
}

async function check(root: TempRoot, factory: string): Promise<{ code: number; stdout: string }> {
  const r = await runVac(root.path, ["config", "check", "--factory-name", factory]);
  return { code: r.code, stdout: r.stdout };
}

// 0.10.0's example.vac.conf, with the options its vac.conf(5) describes: one /etc/vac.conf holding
// [settings], [factories], [vmtype ...] and [targetshares]; relative files under
// /var/lib/vac/vmtypes/NAME; udp_timeout_seconds a float (default "5.0" in that man page).
const VAC_2013 = `[settings]
vac_space = vac01.example.com
mb_per_machine = 2048
total_machines = 1
network_type = nat
udp_timeout_seconds = 5.0
cycle_seconds = 60
delete_old_files = False
version_logger = False
domain_type = kvm

[factories]
names = wn01.example.com

[vmtype example]
root_image = /var/lib/vac/images/cernvm-batch-node-2.6.0-4-1-x86_64.hdd
rootpublickey = /root/.ssh/id_rsa.pub
user_data = user_data
prolog = prolog.sh
epilog = epilog.sh
shutdown_command = /etc/vmtypefiles/vac-shutdown-vm
backoff_seconds=600
fizzle_seconds=600
max_wallclock_seconds=86400

[targetshares]
example = 1
`;

test("a 2013 (Vac 0.10) vac.conf loads: [vmtype] files under vmtypes/NAME, [factories] names, [targetshares], float udp_timeout_seconds", async () => {
  const root = await makeTempRoot();
  try {
    await root.write("etc/vac.conf", VAC_2013);
    await root.write("var/lib/vac/images/cernvm-batch-node-2.6.0-4-1-x86_64.hdd", "image");
    for (const f of ["user_data", "prolog.sh", "epilog.sh"])
      await root.write(`var/lib/vac/vmtypes/example/${f}`, f);
    const { values: v, stderr } = await show(root, "wn01.example.com");
    assert.equal(v.get("settings.vac_space"), "vac01.example.com");
    assert.equal(v.get("settings.factories"), "wn01.example.com:995");
    assert.equal(v.get("settings.udp_timeout_seconds"), "5");
    assert.equal(v.get("settings.mb_per_processor"), "2048");
    assert.equal(v.get("settings.total_machines"), "1");
    assert.equal(v.get("machinetype example.target_share"), "1");
    assert.equal(
      v.get("machinetype example.user_data"),
      `${root.path}/var/lib/vac/vmtypes/example/user_data`,
    );
    assert.equal(v.get("machinetype example.prolog"), `${root.path}/var/lib/vac/vmtypes/example/prolog.sh`);
    assert.equal(
      v.get("machinetype example.root_image"),
      `${root.path}/var/lib/vac/images/cernvm-batch-node-2.6.0-4-1-x86_64.hdd`,
    );
    assert.equal(v.get("machinetype example.shutdown_command"), "/etc/vmtypefiles/vac-shutdown-vm");
    assert.equal(v.get("machinetype example.backoff_seconds"), "600");
    assert.equal(v.get("machinetype example.min_wallclock_seconds"), "86400");
    assert.equal(v.has("machinetype example.disabled"), false);
    // Every older form is named with what replaced it.
    assert.match(stderr, /\[vmtype example\] is an older spelling of \[machinetype example\]/);
    assert.match(stderr, /\[factories\] names is an older spelling of factories in \[settings\]/);
    assert.match(stderr, /mb_per_machine is an older spelling of mb_per_processor/);
    assert.match(
      stderr,
      /'network_type' of the original Vac is ignored: every machine has the factory's own NAT/,
    );
    assert.match(
      stderr,
      /'rootpublickey' of the original Vac is ignored: use root_public_key in \[settings\]/,
    );
    assert.match(stderr, /'delete_old_files' of the original Vac is ignored/);
    const c = await check(root, "wn01.example.com");
    assert.equal(c.code, 0, "only warnings: vac config check exits 0");
    assert.doesNotMatch(c.stdout, / error /);
  } finally {
    await root.remove();
  }
});

// 0.19.0's example.vac.conf and vac.conf(5): factories in [settings], target_share in the
// [vmtype ...] section, the _cpu spellings, scratch_gb, machineoutputs_days, user_data_option_*.
const VAC_2015 = `[settings]
vac_space = vac01.example.com
factories = wn01.example.com wn02.example.com
mb_per_cpu = 4096
hs06_per_cpu = 10.5
overload_per_cpu = 2.0
cpu_total = 8
cpu_per_machine = 1
scratch_gb = 0
fix_networking = True
gocdb_sitename = UKI-EXAMPLE
vacmon_hostport = vacmon.example.com:8884
udp_timeout_seconds = 5.0
draining = yes

[vmtype example]
root_public_key = /root/.ssh/id_rsa.pub
user_data_option_cvmfs_proxy = http://squid-cache.example.com:3128
vm_model = cernvm3
root_image = cernvm3.iso
user_data = user_data
backoff_seconds=600
fizzle_seconds=600
max_wallclock_seconds=86400
min_wallclock_seconds=3600
heartbeat_file = vm-heartbeat
heartbeat_seconds = 600
log_machineoutputs=True
machineoutputs_days = 3.0
accounting_fqan = /example/Role=NULL/Capability=NULL
target_share = 1.0
`;

test("a 2015 (Vac 0.19) vac.conf loads: the _cpu names, scratch_gb = 0 as the default, vm_model, float shares", async () => {
  const root = await makeTempRoot();
  try {
    await root.write("etc/vac.conf", VAC_2015);
    // Vac refused a cpu_total above the host's processors (S231-238): this file's host had 8.
    await root.write("proc/cpuinfo", cpuinfoText(8));
    await root.write("var/lib/vac/vmtypes/example/cernvm3.iso", "iso");
    await root.write("var/lib/vac/vmtypes/example/user_data", "ud");
    const { values: v, stderr } = await show(root, "wn02.example.com");
    assert.equal(v.get("settings.factories"), "wn01.example.com:995 wn02.example.com:995");
    assert.equal(v.get("settings.mb_per_processor"), "4096");
    assert.equal(v.get("settings.hs06_per_processor"), "10.5");
    assert.equal(v.get("settings.overload_per_processor"), "2");
    assert.equal(v.get("settings.total_processors"), "8");
    assert.equal(v.get("settings.processors_per_superslot"), "1");
    assert.equal(v.get("settings.disk_gb_per_processor"), "40", "0 meant the default 40 in Vac (S1867)");
    assert.equal(v.get("settings.draining"), "yes");
    assert.equal(v.get("settings.gocdb_sitename"), "UKI-EXAMPLE");
    assert.equal(v.get("machinetype example.machine_model"), "cernvm3");
    assert.equal(v.get("machinetype example.target_share"), "1");
    assert.equal(
      v.get("machinetype example.root_image"),
      `${root.path}/var/lib/vac/vmtypes/example/cernvm3.iso`,
    );
    assert.equal(v.get("machinetype example.min_wallclock_seconds"), "3600");
    assert.equal(v.get("machinetype example.heartbeat_file"), "vm-heartbeat");
    assert.equal(
      v.get("machinetype example.user_data_option_cvmfs_proxy"),
      "http://squid-cache.example.com:3128",
    );
    assert.match(stderr, /cpu_total is an older spelling of total_processors/);
    assert.match(stderr, /scratch_gb is an older spelling of disk_gb_per_processor/);
    assert.match(
      stderr,
      /'machineoutputs_days' of the original Vac is ignored: the \[settings\] machines_dir_days/,
    );
    // Options the man page describes but vac does not do yet say so, naming file:line.
    assert.doesNotMatch(stderr, /NOT_SUPPORTED_YET: vacmon_hostport/, "VacMon is sent");
    assert.match(stderr, /log_machineoutputs is accepted but not supported yet/);
    // The accounting options work (records are written): no warning for them.
    assert.doesNotMatch(stderr, /(gocdb_sitename|accounting_fqan) is accepted but not supported yet/);
  } finally {
    await root.remove();
  }
});

// Vac 3.1's example.vac.conf (its root_image and user_data are URLs there; local files here),
// with the 3.1 options of its readConf: machinefeatures_option_*, machinegroup, min/max_processors.
const VAC_2017 = `[settings]
vac_space = vac01.example.com
factories = wn01.example.com
mb_per_machine = 2048
disk_gb_per_processor = 0
user_data_option_cvmfs_proxy = http://squid-cache.example.com:3128
root_public_key = /root/.ssh/id_rsa.pub
total_processors = 16
hs06_per_processor = 12.25
overload_per_processor = 1.5
udp_timeout_seconds = 2.5
shutdown_time = 1900000000
machinefeatures_option_site_tag = example-tier2
singularity_user = vacsing
description = An example space

[machinetype example]
machine_model = cernvm3
root_image = cernvm3.iso
user_data = user_data
backoff_seconds=600
fizzle_seconds=600
max_wallclock_seconds=86400
target_share = 1.0
machinegroup = example-vo
min_processors = 1
max_processors = 8
machines_dir_days = 2.5
cvmfs_repositories = lhcb.cern.ch
`;

test("a 2017 (Vac 3.1) vac.conf loads: float options as Vac's float(), machinefeatures_option_*, 3.1-only options warned", async () => {
  const root = await makeTempRoot();
  try {
    await root.write("etc/vac.conf", VAC_2017);
    await root.write("proc/cpuinfo", cpuinfoText(16)); // total_processors = 16 (S239-245)
    await root.write("var/lib/vac/machinetypes/example/files/cernvm3.iso", "iso");
    await root.write("var/lib/vac/machinetypes/example/files/user_data", "ud");
    const { values: v, stderr } = await show(root, "wn01.example.com");
    assert.equal(v.get("settings.udp_timeout_seconds"), "2.5");
    assert.equal(v.get("settings.hs06_per_processor"), "12.25");
    assert.equal(v.get("settings.overload_per_processor"), "1.5");
    assert.equal(v.get("settings.total_processors"), "16");
    assert.equal(v.get("settings.disk_gb_per_processor"), "40");
    assert.equal(v.get("settings.shutdown_time"), "1900000000");
    assert.equal(v.get("settings.root_public_key"), `${root.path}/root/.ssh/id_rsa.pub`);
    assert.equal(v.get("settings.machinefeatures_option_site_tag"), "example-tier2");
    assert.equal(
      v.get("machinetype example.root_image"),
      `${root.path}/var/lib/vac/machinetypes/example/files/cernvm3.iso`,
    );
    assert.equal(v.get("machinetype example.machinegroup"), "example-vo");
    assert.equal(v.get("machinetype example.max_processors"), "8");
    assert.equal(v.get("machinetype example.target_share"), "1");
    // An option again since machine_model = singularity came back: read, and no warning when
    // no machinetype runs that model (vacsing need not exist then).
    assert.doesNotMatch(stderr, /singularity_user/);
    assert.match(stderr, /'description' of the original Vac is ignored/);
    assert.match(
      stderr,
      /'machines_dir_days' of the original Vac is ignored: the \[settings\] machines_dir_days/,
    );
    // An option again since machine_model = docker came back (a VM machinetype ignores it, as
    // Vac's did): no warning.
    assert.doesNotMatch(stderr, /cvmfs_repositories/);
  } finally {
    await root.remove();
  }
});

test("vac config show works on an admin host that is not one of the factories", async () => {
  const root = await makeTempRoot();
  try {
    await root.write("etc/vac.conf", VAC_2017);
    await root.write("proc/cpuinfo", cpuinfoText(16));
    const { values: v, stderr } = await show(root, "admin.example.com");
    assert.equal(v.get("settings.factories"), "wn01.example.com:995");
    assert.match(
      stderr,
      /warning VAC_ERR_CONFIG_FACTORY_NOT_LISTED: factories does not name this factory 'admin\.example\.com'/,
    );
    // The machinetype's files are not on the admin host: it shows as disabled, with the reason.
    assert.match(
      v.get("machinetype example.disabled") ?? "",
      /root_image .*cernvm3\.iso' is missing or unreadable/,
    );
  } finally {
    await root.remove();
  }
});

test("total_processors above the host's processors is refused, as Vac 3.1 refused it (S239-245)", async () => {
  const root = await makeTempRoot();
  try {
    await root.write("etc/vac.conf", VAC_2017);
    await root.write("proc/cpuinfo", cpuinfoText(4));
    await root.write("var/lib/vac/machinetypes/example/files/cernvm3.iso", "iso");
    await root.write("var/lib/vac/machinetypes/example/files/user_data", "ud");
    const c = await check(root, "wn01.example.com");
    assert.equal(c.code, 78, c.stdout);
    assert.match(
      c.stdout,
      /vac\.conf:8: error VAC_ERR_CONFIG_TOO_MANY_PROCESSORS: total_processors = 16 is more than the 4 processors of this host/,
    );
    await root.write("proc/cpuinfo", cpuinfoText(16));
    assert.equal((await check(root, "wn01.example.com")).code, 0, "as many as the host has is fine");
  } finally {
    await root.remove();
  }
});

test("the legacy /etc/vac-*.conf files are read only when /etc/vac.conf does not exist", async () => {
  const root = await makeTempRoot();
  try {
    await root.write(
      "etc/vac-virtualmachines.conf",
      "[settings]\nvac_space = vac01.example.com\n[vmtype example]\nuser_data = user_data\n",
    );
    await root.write("etc/vac-factories.conf", "[factories]\nnames = wn01.example.com\n");
    await root.write("etc/vac-targetshares.conf", "[targetshares]\nexample = 3\n");
    await root.write("var/lib/vac/vmtypes/example/user_data", "ud");
    const legacy = await show(root, "wn01.example.com");
    assert.equal(legacy.values.get("machinetype example.target_share"), "3");
    assert.equal(legacy.values.get("settings.factories"), "wn01.example.com:995");

    await root.write(
      "etc/vac.conf",
      "[settings]\nvac_space = vac02.example.com\nfactories = wn01.example.com\n[machinetype other]\ntarget_share = 1\n",
    );
    const modern = await show(root, "wn01.example.com");
    assert.equal(modern.values.get("settings.vac_space"), "vac02.example.com");
    assert.equal(
      modern.values.has("machinetype example.target_share"),
      false,
      "stale legacy files stay dead",
    );
  } finally {
    await root.remove();
  }
});
