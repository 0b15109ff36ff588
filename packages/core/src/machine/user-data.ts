/**
 * user_data substitutions (Vac's createUserData U198-318): `##user_data_option_XXX##`
 * becomes the option's value or the contents of the `user_data_file_XXX` file (also under the
 * deprecated `##user_data_file_XXX##`, U306); built-ins give the machine its identity, with the
 * old vmtype/VM/VMLM spellings (U281-285). An unknown `##user_data_...##` is removed, as Vac
 * removed it (U315), and returned so the caller can log it.
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
  /** The http(s) URL user_data came from (Vac substituted it only then, U227). */
  readonly userDataUrl?: string;
  /** The root_image when it is an http(s) URL (U266). */
  readonly rootImageUrl?: string;
  /** A proxy made for user_data_proxy, substituted at ##user_data_option_x509_proxy## (U289-300). */
  readonly x509Proxy?: string;
  readonly options: Readonly<Record<string, string>>;
  /** Contents of each user_data_file_XXX, read by the caller. */
  readonly files: Readonly<Record<string, string>>;
}

/** Vac's pattern (U315): lower-case letters, digits, underscores (and commas, by accident). */
const PATTERN = /##user_data_([a-z0-9_,]*)##/g;

export function substituteUserData(
  template: string,
  c: UserDataContext,
): { text: string; unknown: string[] } {
  const builtins: Record<string, string | undefined> = {
    uuid: c.uuid,
    space: c.space,
    machinetype: c.machinetype,
    vmtype: c.machinetype,
    machine_hostname: c.machineHostname,
    vm_hostname: c.machineHostname,
    manager_version: c.managerVersion,
    vmlm_version: c.managerVersion,
    manager_hostname: c.managerHostname,
    vmlm_hostname: c.managerHostname,
    machinefeatures_url: c.machinefeaturesUrl,
    jobfeatures_url: c.jobfeaturesUrl,
    joboutputs_url: c.joboutputsUrl,
    url: c.userDataUrl,
    root_image_url: c.rootImageUrl,
  };
  const unknown: string[] = [];
  const text = template.replace(PATTERN, (whole, name: string) => {
    let value: string | undefined;
    if (name.startsWith("option_")) {
      const key = name.slice("option_".length);
      if (key === "x509_proxy" && c.x509Proxy !== undefined) value = c.x509Proxy;
      else if (Object.hasOwn(c.options, key)) value = c.options[key];
      else if (Object.hasOwn(c.files, key)) value = c.files[key];
    } else if (name.startsWith("file_")) {
      const key = name.slice("file_".length);
      if (Object.hasOwn(c.files, key)) value = c.files[key];
    } else if (Object.hasOwn(builtins, name)) value = builtins[name];
    if (value !== undefined) return value;
    unknown.push(whole);
    return "";
  });
  return { text, unknown };
}
