import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import {
  contextIsoFiles,
  contextIsoLabel,
  type DomainSpec,
  el,
  escapeXmlAttr,
  parseDomstats,
  parseNetwork,
  readLifecycleEvent,
  renderDomainXml,
  renderXml,
} from "../src/index.js";

const HOSTILE = `a'b"c <d> & $(touch /tmp/pwned); \`id\` e`;

const base: DomainSpec = {
  name: "wn01-00.example.com",
  uuid: "0f8fad5b-d9cb-469f-a165-70867728950e",
  domainType: "qemu",
  memoryMb: 512,
  vcpus: 2,
  boot: { kind: "kernel", kernel: "/k/vmlinuz", initrd: "/k/initrd.gz", cmdline: "console=ttyS0" },
  rootDisk: undefined,
  scratchDisk: { path: "/m/scratch.qcow2", device: "vda" },
  contextIso: "/m/context.iso",
  machinefeatures: "/m/machinefeatures",
  jobfeatures: "/m/jobfeatures",
  joboutputs: "/m/joboutputs",
  consoleLog: "/m/console.log",
  mac: "56:4d:01:02:03:04",
  network: { kind: "user" },
};

/** The domain an event line names, when the factory should look at it. */
const actionable = (line: string) => {
  const e = readLifecycleEvent(line);
  return e?.actionable ? e.name : undefined;
};

test("the XML writer escapes every metacharacter in text and attributes", () => {
  const xml = renderXml(el("a", { v: HOSTILE }, el("b", {}, HOSTILE)));
  assert.equal(
    xml,
    '<a v="a&apos;b&quot;c &lt;d&gt; &amp; $(touch /tmp/pwned); `id` e">\n' +
      "  <b>a'b\"c &lt;d&gt; &amp; $(touch /tmp/pwned); `id` e</b>\n</a>",
  );
  assert.equal(escapeXmlAttr("x\ny\tz"), "x&#10;y&#9;z");
});

test("the XML writer refuses control characters XML cannot carry", () => {
  assert.throws(() => renderXml(el("a", {}, "bell\u0007")), { code: "VAC_ERR_UNSAFE_NAME" });
  assert.throws(() => renderXml(el("a", { v: "nul\u0000" })), { code: "VAC_ERR_UNSAFE_NAME" });
});

test("a kernel-boot domain: ISO is the last virtio disk, 9p exports, console file, ACPI, destroy on poweroff", () => {
  const xml = renderDomainXml(base);
  assert.match(xml, /^<domain type="qemu">/);
  assert.match(xml, /<name>wn01-00\.example\.com<\/name>/);
  assert.match(xml, /<memory unit="MiB">512<\/memory>/);
  assert.match(xml, /<vcpu>2<\/vcpu>/);
  assert.match(
    xml,
    /<kernel>\/k\/vmlinuz<\/kernel>\s*<initrd>\/k\/initrd.gz<\/initrd>\s*<cmdline>console=ttyS0<\/cmdline>/,
  );
  const disks = [...xml.matchAll(/<target dev="(\w+)" bus="virtio"\/>/g)].map((m) => m[1]);
  assert.deepEqual(disks, ["vda", "vdb"], "the empty disk first (the guest's vda), then the ISO");
  assert.ok(xml.indexOf("/m/scratch.qcow2") < xml.indexOf("/m/context.iso"));
  for (const [tag, ro] of [
    ["machinefeatures", true],
    ["jobfeatures", true],
    ["joboutputs", false],
  ] as const) {
    const fs = new RegExp(
      `<filesystem type="mount" accessmode="mapped">\\s*<source dir="/m/${tag}"/>\\s*<target dir="${tag}"/>(\\s*<readonly/>)?`,
    ).exec(xml);
    assert.ok(fs, tag);
    assert.equal(Boolean(fs[1]), ro, `${tag} read-only`);
  }
  assert.match(xml, /<features>\s*<acpi\/>/);
  assert.match(xml, /<on_poweroff>destroy<\/on_poweroff>/);
  // Every end of the guest ends the machine (Vac S1921-1923), and a panic is an end.
  assert.match(xml, /<on_reboot>destroy<\/on_reboot>/);
  assert.match(xml, /<on_crash>destroy<\/on_crash>/);
  assert.match(xml, /<panic model="isa"\/>/);
  assert.match(xml, /<serial type="file">\s*<source path="\/m\/console.log"\/>/);
  assert.match(xml, /<interface type="user">\s*<mac address="56:4d:01:02:03:04"\/>/);
  assert.doesNotMatch(xml, /host-passthrough/, "no host CPU under TCG");
});

test("smbios = openstack: the guest's DMI says OpenStack Nova, with the machine's UUID as serial and UUID; none and unset say nothing", () => {
  for (const boot of [base.boot, { kind: "disk" } as const, { kind: "cdrom", image: "/i.iso" } as const]) {
    const xml = renderDomainXml({ ...base, boot, smbios: "openstack" });
    const sysinfo = /<sysinfo type="smbios">\s*<system>([\s\S]*?)<\/system>\s*<\/sysinfo>/.exec(xml);
    assert.ok(sysinfo, xml);
    const entries = Object.fromEntries(
      [...(sysinfo[1] ?? "").matchAll(/<entry name="(\w+)">([^<]*)<\/entry>/g)].map((m) => [m[1], m[2]]),
    );
    assert.deepEqual(entries, {
      manufacturer: "Vac",
      product: "OpenStack Nova",
      serial: base.uuid,
      uuid: base.uuid,
      family: "Virtual Machine",
    });
    // QEMU is given the table only when <os> asks for it.
    assert.match(xml, /<os>[\s\S]*<smbios mode="sysinfo"\/>\s*<\/os>/);
  }
  for (const smbios of ["none", undefined] as const) {
    const xml = renderDomainXml({ ...base, smbios });
    assert.doesNotMatch(xml, /sysinfo|smbios|OpenStack/);
  }
  // Nor does such a machine look like OpenNebula to ds-identify (a CONTEXT or CDROM label).
  assert.equal(contextIsoLabel("openstack"), "VAC_CONTEXT");
  assert.equal(contextIsoLabel("none"), "CONTEXT", "the seed-era label");
  assert.equal(contextIsoLabel(undefined), "CONTEXT");
});

test("vm-raw boots its overlay; cernvm3 boots its ISO from a CD-ROM; kvm passes the host CPU", () => {
  const raw = renderDomainXml({
    ...base,
    boot: { kind: "disk" },
    rootDisk: { path: "/m/root.qcow2", device: "vda" },
    scratchDisk: { path: "/m/scratch.qcow2", device: "vdb" },
  });
  assert.deepEqual(
    [...raw.matchAll(/<target dev="(\w+)" bus="virtio"\/>/g)].map((m) => m[1]),
    ["vda", "vdb", "vdc"],
  );
  assert.match(raw, /<boot dev="hd"\/>/);
  const cvm = renderDomainXml({
    ...base,
    domainType: "kvm",
    boot: { kind: "cdrom", image: "/images/cernvm.iso" },
  });
  assert.match(
    cvm,
    /<disk type="file" device="cdrom">[\s\S]*\/images\/cernvm.iso[\s\S]*<target dev="hdc" bus="ide"\/>/,
  );
  assert.match(cvm, /<boot dev="cdrom"\/>/);
  assert.match(cvm, /<cpu mode="host-passthrough"\/>/);
});

test("hostile paths and command lines stay inside their attribute or element", () => {
  const xml = renderDomainXml({
    ...base,
    boot: { kind: "kernel", kernel: `/k/${HOSTILE}`, initrd: undefined, cmdline: HOSTILE },
    contextIso: `/m/${HOSTILE}/context.iso`,
  });
  assert.equal(xml.split("<disk ").length - 1, 2);
  assert.doesNotMatch(xml, /<d>|& /);
  assert.ok(
    xml.includes(
      '<source file="/m/a&apos;b&quot;c &lt;d&gt; &amp; $(touch /tmp/pwned); `id` e/context.iso"/>',
    ),
  );
  assert.match(xml, /<cmdline>a'b"c &lt;d&gt; &amp; \$\(touch \/tmp\/pwned\); `id` e<\/cmdline>/);
  assert.throws(() => renderDomainXml({ ...base, scratchDisk: { path: "/x", device: 'vda"/><evil' } }), {
    code: "VAC_ERR_UNSAFE_NAME",
  });
});

test("network choices", () => {
  assert.deepEqual(parseNetwork("user"), { kind: "user" });
  assert.deepEqual(parseNetwork("none"), { kind: "none" });
  assert.deepEqual(parseNetwork("bridge:br0"), { kind: "bridge", name: "br0" });
  assert.deepEqual(parseNetwork("network:default"), { kind: "network", name: "default" });
  for (const bad of ["", "bridge:", "bridge:a b", "network:x'y", "tap:br0", "bridge:$(id)"])
    assert.throws(() => parseNetwork(bad), { code: "VAC_ERR_UNSAFE_NAME" }, bad);
  const none = renderDomainXml({ ...base, network: { kind: "none" } });
  assert.doesNotMatch(none, /<interface/);
  assert.match(
    renderDomainXml({ ...base, network: { kind: "bridge", name: "br0" } }),
    /<interface type="bridge">[\s\S]*<source bridge="br0"\/>/,
  );
});

test("virsh domstats output: states and CPU seconds of every domain", () => {
  const text = [
    "Domain: 'wn01-00.example.com'",
    "  state.state=1",
    "  state.reason=1",
    "  cpu.time=2500000000",
    "",
    "Domain: 'wn01-01.example.com'",
    "  state.state=3",
    "  state.reason=0",
    "",
    "Domain: 'other'",
    "  state.state=5",
    "",
  ].join("\n");
  assert.deepEqual(parseDomstats(text), [
    { name: "wn01-00.example.com", state: "running", cpuSeconds: 2.5 },
    { name: "wn01-01.example.com", state: "paused", cpuSeconds: undefined },
    { name: "other", state: "shutoff", cpuSeconds: undefined },
  ]);
  assert.deepEqual(parseDomstats(""), []);
});

test("virsh domstats output that is not domstats is an error, never 'no domains'", () => {
  const random = Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7919 + 13) % 256)).toString("utf8");
  const garbage = [
    random,
    "error: failed to connect to the hypervisor",
    "  state.state=1",
    "Domain: 'wn01-00.example.com'\n  state.state=running",
    "Domain: 'wn01-00.example.com'\n  state.state=1\n  cpu.time=25000000\u0000",
    "Domain: 'wn01-00.example.com'\n  state.st",
  ];
  for (const text of garbage)
    assert.throws(
      () => parseDomstats(text, "virsh domstats"),
      (e: Error & { code?: string }) =>
        e.code === "VAC_ERR_HYPERVISOR_OUTPUT" &&
        /^virsh domstats printed what vac cannot read/.test(e.message),
      JSON.stringify(text.slice(0, 60)),
    );
  // Fields vac does not use, whatever their names and values, are skipped.
  assert.deepEqual(
    parseDomstats("Domain: 'a'\n  state.state=1\n  cpu.cache.monitor.count=0\n  vcpu.0.name=x y\n"),
    [{ name: "a", state: "running", cpuSeconds: undefined }],
  );
});

test("context.sh, sourced by a real shell, gives back exactly the values it was given", () => {
  const userData = Buffer.from(`#!/bin/sh\necho '${HOSTILE}'\n`);
  const files = contextIsoFiles({
    userData,
    prolog: Buffer.from("p"),
    epilog: undefined,
    rootPublicKeys: "ssh-ed25519 AAAA x\n",
  });
  assert.deepEqual([...files.keys()].sort(), ["context.sh", "prolog.sh", "root.pub", "user_data"]);
  const out = execFileSync(
    "sh",
    [
      "-c",
      'eval "$(cat)"; printf "%s|%s|%s|%s" "$EC2_USER_DATA" "$ROOT_PUBKEY" "$MACHINEFEATURES" "$PROLOG"',
    ],
    {
      input: files.get("context.sh"),
    },
  ).toString();
  const [b64, pub, mjf, prolog] = out.split("|");
  assert.equal(Buffer.from(b64 ?? "", "base64").toString(), userData.toString());
  assert.deepEqual([pub, mjf, prolog], ["root.pub", "/etc/machinefeatures", "prolog.sh"]);
});

test("virsh lifecycle events: stops, pauses and crashes call for a look; starts do not", () => {
  const ev = (what: string) => `event 'lifecycle' for domain 'wn01-00.example.com': ${what}`;
  assert.equal(actionable(ev("Stopped Destroyed")), "wn01-00.example.com");
  assert.equal(actionable(ev("Shutdown Finished after guest request")), "wn01-00.example.com");
  assert.equal(actionable(ev("Suspended Paused")), "wn01-00.example.com");
  assert.equal(actionable(ev("Crashed Panicked")), "wn01-00.example.com");
  assert.equal(actionable(ev("Started Booted")), undefined);
  assert.equal(actionable(ev("Resumed Unpaused")), undefined);
  assert.equal(actionable("event 'reboot' for domain 'x'"), undefined);
  assert.equal(actionable("garbage"), undefined);
});
