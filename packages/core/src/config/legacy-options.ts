/**
 * Options of the original Vac, from 0.x (2013) to 3.1 (2017), that have no effect here. Sites
 * must be able to load the files they wrote for Vac unchanged, so each is
 * accepted with a warning that says what replaced it or why it does nothing. The table drives
 * both that warning and the man page's OBSOLETE OPTIONS section.
 *
 * Options that were renamed are not here: they are `aliases` in the definitions table and work.
 */

export interface LegacyOption {
  /** Where Vac read it; a name found in another section is an unknown option as usual. */
  readonly sections: readonly ("settings" | "machinetype")[];
  /** What replaced it, or why it does nothing: completes "... is ignored: ". */
  readonly replacement: string;
}

const S = ["settings"] as const;
const M = ["machinetype"] as const;

export const LEGACY_OPTIONS: Readonly<Record<string, LegacyOption>> = {
  // Vac 0.x (2013): statically defined VMs, bridged or NAT networking chosen by the site.
  network_type: { sections: S, replacement: "every machine has the factory's own NAT network" },
  nat_network: { sections: S, replacement: "machines use the link-local network Vac 0.13 introduced" },
  bridge_device: { sections: S, replacement: "machines are not bridged onto the site network" },
  delete_old_files: {
    sections: S,
    replacement: "finished machines' files are always removed, after machines_dir_days (S339)",
  },
  // Vac 3.1's [settings] (S216-S348).
  description: { sections: S, replacement: "the space's description is not used" },
  version_logger: { sections: S, replacement: "no version datagram is sent (Vac sent one daily, D191-201)" },
  // Vac's [vmtype]/[machinetype] sections (S590-S740).
  rootpublickey: { sections: M, replacement: "use root_public_key in [settings] (S639)" },
  root_public_key: { sections: M, replacement: "use root_public_key in [settings] (S641)" },
  user_data_proxy_cert: {
    sections: M,
    replacement: "Vac 3.1 replaced it by user_data_proxy = true with x509cert.pem and x509key.pem (S733)",
  },
  user_data_proxy_key: {
    sections: M,
    replacement: "Vac 3.1 replaced it by user_data_proxy = true with x509cert.pem and x509key.pem (S733)",
  },
  machinetype_path: {
    sections: M,
    replacement: "relative files are always under /var/lib/vac/machinetypes/NAME/files (S586)",
  },
  machines_dir_days: {
    sections: M,
    replacement: "the [settings] machines_dir_days applies to every machinetype",
  },
  machineoutputs_days: {
    sections: M,
    replacement: "the [settings] machines_dir_days applies to every machinetype",
  },
};

/** The legacy entry for an option name read in a section kind, if any. */
export function findLegacyOption(
  section: "settings" | "machinetype",
  name: string,
): LegacyOption | undefined {
  const entry = Object.hasOwn(LEGACY_OPTIONS, name) ? LEGACY_OPTIONS[name] : undefined;
  return entry?.sections.includes(section) ? entry : undefined;
}
