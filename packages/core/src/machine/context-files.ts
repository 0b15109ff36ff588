/**
 * What goes on a machine's contextualization ISO (docs/machine-contracts.md): `user_data` after
 * substitutions,
 * `context.sh` with the seed-era CernVM keys, `prolog.sh`/`epilog.sh` when the machinetype
 * names them, and `root.pub` with the keys allowed to log in as root (the site's
 * `root_public_key`, if any, and the machine's own generated key). File names are ours and
 * fixed; only contents come from configuration and user_data.
 */

export interface ContextInputs {
  readonly userData: Buffer;
  readonly prolog: Buffer | undefined;
  readonly epilog: Buffer | undefined;
  /** Lines of authorized_keys format, newline-terminated. */
  readonly rootPublicKeys: string;
}

/** POSIX shell single quoting: safe for any byte string without NUL. */
export function shellSingleQuote(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}

/**
 * The context ISO's volume label. `CONTEXT` is the seed-era name (OpenNebula's, which CernVM's
 * contextualization follows). A machine that says it is OpenStack (smbios_identity = openstack)
 * must not also look like OpenNebula: cloud-init's ds-identify lists OpenNebula for any filesystem
 * labelled CONTEXT or CDROM (dscheck_OpenNebula), before OpenStack, and the OpenNebula datasource
 * then takes the ISO's context.sh (through `sudo -u nobody`, which cloud images have) as its
 * whole source: instance-id `iid-dsopennebula`, no user-data (it knows no EC2_USER_DATA), no
 * keys, and the metadata server never asked. Its ISO is labelled VAC_CONTEXT instead.
 */
export function contextIsoLabel(smbios: "openstack" | "none" | undefined): string {
  return smbios === "openstack" ? "VAC_CONTEXT" : "CONTEXT";
}

export function contextIsoFiles(i: ContextInputs): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  files.set("user_data", i.userData);
  const context = [
    ["EC2_USER_DATA", i.userData.toString("base64")],
    ["ROOT_PUBKEY", "root.pub"],
    ["MACHINEFEATURES", "/etc/machinefeatures"],
    ["JOBFEATURES", "/etc/jobfeatures"],
    ["JOBOUTPUTS", "/etc/machineoutputs"],
  ];
  if (i.prolog) context.push(["PROLOG", "prolog.sh"]);
  if (i.epilog) context.push(["EPILOG", "epilog.sh"]);
  files.set(
    "context.sh",
    Buffer.from(context.map(([k, v]) => `${k}=${shellSingleQuote(v ?? "")}\n`).join("")),
  );
  if (i.prolog) files.set("prolog.sh", i.prolog);
  if (i.epilog) files.set("epilog.sh", i.epilog);
  files.set("root.pub", Buffer.from(i.rootPublicKeys));
  return files;
}
