/**
 * user_data substitutions (SPEC §2): `##user_data_option_XXX##` becomes the option's value or
 * the contents of the `user_data_file_XXX` file; built-ins give the machine its identity. An
 * unknown `##user_data_...##` is left alone and returned so the caller can log it.
 */
export interface UserDataContext {
  readonly uuid: string;
  readonly space: string;
  readonly machinetype: string;
  readonly machineHostname: string;
  readonly managerVersion: string;
  readonly managerHostname: string;
  readonly machinefeaturesUrl: string;
  readonly jobfeaturesUrl: string;
  readonly joboutputsUrl: string;
  readonly options: Readonly<Record<string, string>>;
  /** Contents of each user_data_file_XXX, read by the caller. */
  readonly files: Readonly<Record<string, string>>;
}

const PATTERN = /##user_data_([a-z0-9_]+)##/g;

export function substituteUserData(
  template: string,
  c: UserDataContext,
): { text: string; unknown: string[] } {
  const builtins: Record<string, string> = {
    uuid: c.uuid,
    space: c.space,
    machinetype: c.machinetype,
    vmtype: c.machinetype,
    machine_hostname: c.machineHostname,
    vm_hostname: c.machineHostname,
    manager_version: c.managerVersion,
    manager_hostname: c.managerHostname,
    machinefeatures_url: c.machinefeaturesUrl,
    jobfeatures_url: c.jobfeaturesUrl,
    joboutputs_url: c.joboutputsUrl,
  };
  const unknown: string[] = [];
  const text = template.replace(PATTERN, (whole, name: string) => {
    if (name.startsWith("option_")) {
      const key = name.slice("option_".length);
      if (Object.hasOwn(c.options, key)) return c.options[key] ?? "";
      if (Object.hasOwn(c.files, key)) return c.files[key] ?? "";
    } else if (Object.hasOwn(builtins, name)) return builtins[name] ?? "";
    unknown.push(whole);
    return whole;
  });
  return { text, unknown };
}
