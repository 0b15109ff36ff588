/**
 * The libvirt domain description of one machine (docs/machine-contracts.md), as a pure function
 * of what the
 * driver prepared: disks, the contextualization ISO, the three MJF directories exported over
 * virtio 9p, the serial console to a file, ACPI (so a guest's poweroff really powers off) and
 * `on_poweroff` destroy. Every value goes through the XML writer's escaping.
 */
import type { DomainType } from "../config/model.js";
import { VacError } from "../errors.js";
import { el, renderXml, type XmlElement } from "./xml-writer.js";

export type NetworkChoice =
  | { readonly kind: "user" }
  | { readonly kind: "none" }
  | { readonly kind: "network"; readonly name: string }
  | { readonly kind: "bridge"; readonly name: string }
  /**
   * Vac 3's machine network (network-xml.ts): the slot's lease address is passed to the
   * `filter` (libvirt's `clean-traffic`), so no guest can take another slot's address. The
   * filter is never left out: as Vac's `filterref` (S1931), a domain whose filter libvirt lacks
   * is refused by libvirt rather than started unfiltered.
   */
  | { readonly kind: "vac"; readonly network: string; readonly ip: string; readonly filter: string };

const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** `user`, `none`, `network:NAME` or `bridge:NAME` (the machinetype's `network` option). */
export function parseNetwork(value: string): NetworkChoice {
  if (value === "user" || value === "none") return { kind: value };
  const colon = value.indexOf(":");
  const kind = value.slice(0, colon);
  const name = value.slice(colon + 1);
  if ((kind === "network" || kind === "bridge") && NETWORK_NAME.test(name)) return { kind, name };
  throw new VacError("VAC_ERR_UNSAFE_NAME", {
    what: "network",
    value,
    detail: "expected user, none, network:NAME or bridge:NAME with a plain name",
  });
}

export type BootChoice =
  /** CernVM style: the root image is a bootable ISO on an IDE CD-ROM. */
  | { readonly kind: "cdrom"; readonly image: string }
  /** Boots from the root disk (vm-raw's overlay). */
  | { readonly kind: "disk" }
  /** Direct kernel boot. */
  | {
      readonly kind: "kernel";
      readonly kernel: string;
      readonly initrd: string | undefined;
      readonly cmdline: string | undefined;
    };

export interface DiskFile {
  readonly path: string;
  /** Target device name, e.g. `vda` (root_device / scratch_device). */
  readonly device: string;
  /** A block device (a logical volume, volume_group) given raw, rather than a qcow2 file. */
  readonly block?: boolean;
}

export interface DomainSpec {
  /** The machine's FQDN. */
  readonly name: string;
  readonly uuid: string;
  readonly domainType: DomainType;
  readonly memoryMb: number;
  readonly vcpus: number;
  readonly boot: BootChoice;
  /** vm-raw: the qcow2 overlay on root_image. */
  readonly rootDisk: DiskFile | undefined;
  readonly scratchDisk: DiskFile | undefined;
  /** Always the last virtio disk, so with one disk before it the guest sees it as /dev/vdb. */
  readonly contextIso: string;
  readonly machinefeatures: string;
  readonly jobfeatures: string;
  readonly joboutputs: string;
  readonly consoleLog: string;
  readonly mac: string;
  readonly network: NetworkChoice;
  /** What the guest's SMBIOS system table says it is (smbiosSystem); unset, QEMU's own. */
  readonly smbios?: SmbiosIdentity;
}

/** `smbios_identity`: `openstack` makes the guest's DMI say OpenStack Nova; `none` leaves QEMU's. */
export type SmbiosIdentity = "openstack" | "none";

/**
 * The SMBIOS system table of a machine with `smbios_identity = openstack`, as nova writes it
 * (its libvirt driver's sysinfo; Vac's domains had none, S1898-1912), so that an image's
 * cloud-init reads the metadata server through its OpenStack datasource: cloud-init 22.4 uses
 * that datasource on x86 only when the DMI system product name is `OpenStack Nova` or
 * `OpenStack Compute` (ds-identify's dscheck_OpenStack, DataSourceOpenStack.detect_openstack),
 * and otherwise never asks 169.254.169.254. The serial and UUID are the machine's UUID (libvirt
 * requires the sysinfo UUID to be the domain's); the manufacturer says who really made it.
 */
function smbiosSystem(uuid: string): XmlElement {
  const entry = (name: string, value: string) => el("entry", { name }, value);
  return el(
    "sysinfo",
    { type: "smbios" },
    el(
      "system",
      {},
      entry("manufacturer", "Vac"),
      entry("product", "OpenStack Nova"),
      entry("serial", uuid),
      entry("uuid", uuid),
      entry("family", "Virtual Machine"),
    ),
  );
}

const DEVICE = /^(vd|sd|hd)[a-z]{1,2}$/;

function checkDevice(device: string, what: string): string {
  if (!DEVICE.test(device))
    throw new VacError("VAC_ERR_UNSAFE_NAME", {
      what,
      value: device,
      detail: "expected a device name like vda",
    });
  return device;
}

/**
 * The `vdX` name after the last one used. libvirt orders disks by target name, and the guest
 * numbers virtio disks in that order, so the ISO must sort last to be the guest's last disk.
 */
function nextVirtioDevice(used: readonly string[]): string {
  const last =
    [...used]
      .filter((d) => /^vd[a-y]$/.test(d))
      .sort()
      .at(-1) ?? "vd`";
  const name = `vd${String.fromCharCode(last.charCodeAt(2) + 1)}`;
  if (!/^vd[a-z]$/.test(name)) throw new VacError("VAC_ERR_INTERNAL", { detail: "no virtio disk name left" });
  return name;
}

function qcow2Disk(disk: DiskFile): XmlElement {
  // A logical volume is a raw block device, as Vac gave it (S1808-1812, S1851-1855).
  return el(
    "disk",
    { type: disk.block ? "block" : "file", device: "disk" },
    el("driver", { name: "qemu", type: disk.block ? "raw" : "qcow2", cache: "none" }),
    el("source", disk.block ? { dev: disk.path } : { file: disk.path }),
    el("target", { dev: checkDevice(disk.device, "disk device"), bus: "virtio" }),
  );
}

function filesystem(dir: string, tag: string, readonly: boolean): XmlElement {
  return el(
    "filesystem",
    { type: "mount", accessmode: "mapped" },
    el("source", { dir }),
    el("target", { dir: tag }),
    readonly && el("readonly"),
  );
}

function networkInterface(mac: string, network: NetworkChoice): XmlElement | undefined {
  if (network.kind === "none") return undefined;
  if (network.kind === "vac")
    return el(
      "interface",
      { type: "network" },
      el("mac", { address: mac }),
      el("source", { network: network.network }),
      el("model", { type: "virtio" }),
      el("filterref", { filter: network.filter }, el("parameter", { name: "IP", value: network.ip })),
    );
  const source =
    network.kind === "network"
      ? el("source", { network: network.name })
      : network.kind === "bridge"
        ? el("source", { bridge: network.name })
        : undefined;
  return el(
    "interface",
    { type: network.kind },
    el("mac", { address: mac }),
    source,
    el("model", { type: "virtio" }),
  );
}

export function renderDomainXml(spec: DomainSpec): string {
  const boot = spec.boot;
  const openstack = spec.smbios === "openstack";
  const os =
    boot.kind === "kernel"
      ? el(
          "os",
          {},
          el("type", { arch: "x86_64", machine: "pc" }, "hvm"),
          el("kernel", {}, boot.kernel),
          boot.initrd !== undefined && el("initrd", {}, boot.initrd),
          boot.cmdline !== undefined && el("cmdline", {}, boot.cmdline),
          openstack && el("smbios", { mode: "sysinfo" }),
        )
      : el(
          "os",
          {},
          el("type", { arch: "x86_64", machine: "pc" }, "hvm"),
          el("boot", { dev: boot.kind === "cdrom" ? "cdrom" : "hd" }),
          openstack && el("smbios", { mode: "sysinfo" }),
        );
  const virtio = [spec.rootDisk, spec.scratchDisk].filter((d): d is DiskFile => d !== undefined);
  const isoDevice = nextVirtioDevice(virtio.map((d) => d.device));
  const devices = el(
    "devices",
    {},
    boot.kind === "cdrom" &&
      el(
        "disk",
        { type: "file", device: "cdrom" },
        el("driver", { name: "qemu", type: "raw" }),
        el("source", { file: boot.image }),
        el("target", { dev: "hdc", bus: "ide" }),
        el("readonly"),
      ),
    ...virtio.map(qcow2Disk),
    el(
      "disk",
      { type: "file", device: "disk" },
      el("driver", { name: "qemu", type: "raw" }),
      el("source", { file: spec.contextIso }),
      el("target", { dev: isoDevice, bus: "virtio" }),
      el("readonly"),
    ),
    filesystem(spec.machinefeatures, "machinefeatures", true),
    filesystem(spec.jobfeatures, "jobfeatures", true),
    filesystem(spec.joboutputs, "joboutputs", false),
    networkInterface(spec.mac, spec.network),
    el("serial", { type: "file" }, el("source", { path: spec.consoleLog }), el("target", { port: 0 })),
    el(
      "console",
      { type: "file" },
      el("source", { path: spec.consoleLog }),
      el("target", { type: "serial", port: 0 }),
    ),
    el("memballoon", { model: "none" }),
    // A guest that panics signals it and ends at once (on_crash destroy), rather than hanging
    // until its deadline (Vac's domains had no panic device).
    el("panic", { model: "isa" }),
  );
  const domain = el(
    "domain",
    { type: spec.domainType },
    el("name", {}, spec.name),
    el("uuid", {}, spec.uuid),
    el("memory", { unit: "MiB" }, String(spec.memoryMb)),
    el("vcpu", {}, String(spec.vcpus)),
    openstack && smbiosSystem(spec.uuid),
    os,
    el("features", {}, el("acpi"), el("apic")),
    spec.domainType === "kvm" && el("cpu", { mode: "host-passthrough" }),
    el("on_poweroff", {}, "destroy"),
    // A reboot ends the machine, as in Vac (S1921-1923): its outcome is then recorded.
    el("on_reboot", {}, "destroy"),
    el("on_crash", {}, "destroy"),
    devices,
  );
  return `${renderXml(domain)}\n`;
}
