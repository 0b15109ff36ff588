/**
 * What `##user_data_machinefeatures_url##`, `##user_data_jobfeatures_url##` and
 * `##user_data_joboutputs_url##` become (S1539-1554). Vac 3 images read MJF and PUT their
 * outputs over HTTP at 169.254.169.253 (`machine_contract = vac3`); seed-era images read the
 * 9p exports (`seed`), a container its binds, and a process machine reads its own directories: for those the
 * values are the plain paths MJF clients read (not `file://` URLs, which they do not take).
 */

import type { Machinetype } from "../config/model.js";
import { MJF_ADDRESS } from "../libvirt/network-xml.js";

export interface MjfUrls {
  readonly machinefeaturesUrl: string;
  readonly jobfeaturesUrl: string;
  readonly joboutputsUrl: string;
}

/** `machineDir`: the machine's directory on the factory, which a process machine reads directly. */
export function mjfUrls(
  mt: Pick<Machinetype, "machineModel" | "machineContract">,
  machineDir: string,
): MjfUrls {
  if (mt.machineModel === "process")
    return {
      machinefeaturesUrl: `${machineDir}/machinefeatures`,
      jobfeaturesUrl: `${machineDir}/jobfeatures`,
      joboutputsUrl: `${machineDir}/joboutputs`,
    };
  // Where the container sees its binds (S1545-1548).
  if (mt.machineModel === "docker")
    return {
      machinefeaturesUrl: "/etc/machinefeatures",
      jobfeaturesUrl: "/etc/jobfeatures",
      joboutputsUrl: "/var/spool/joboutputs",
    };
  // Where Singularity sees its binds (S1550-1553).
  if (mt.machineModel === "singularity")
    return {
      machinefeaturesUrl: "/tmp/machinefeatures",
      jobfeaturesUrl: "/tmp/jobfeatures",
      joboutputsUrl: "/tmp/joboutputs",
    };
  if (mt.machineContract === "vac3")
    return {
      machinefeaturesUrl: `http://${MJF_ADDRESS}/machinefeatures`,
      jobfeaturesUrl: `http://${MJF_ADDRESS}/jobfeatures`,
      joboutputsUrl: `http://${MJF_ADDRESS}/joboutputs`,
    };
  return {
    machinefeaturesUrl: "/etc/machinefeatures",
    jobfeaturesUrl: "/etc/jobfeatures",
    joboutputsUrl: "/etc/machineoutputs",
  };
}
