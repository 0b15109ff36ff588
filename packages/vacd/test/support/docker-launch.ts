import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadConfig, type Machinetype, machineDirName, type VacConfig, vacPaths } from "@vac/core";
import { makeTempRoot, type TempRoot } from "@vac/testkit";
import type { MachineLaunch } from "../../src/index.js";

export const DOCKER_FACTORY = "wn01.example.com";

/**
 * A factory wn01.example.com of 8 processors with one `docker` machinetype `dc` (tmp_binds
 * /tmp, 2 processors a machine), `settings` (whole lines) added to its [settings], in a
 * throw-away root; `launch(slot)` makes the slot's machine directory and what the loop would
 * hand the container driver for it.
 */
export async function dockerFactory(settings = ""): Promise<{
  readonly root: TempRoot;
  readonly config: VacConfig;
  launch(slot: number): Promise<MachineLaunch>;
}> {
  const root = await makeTempRoot("vac-docker-");
  const paths = vacPaths(root.path);
  const text = `[settings]
vac_space = docker.vac.test
factory_name = ${DOCKER_FACTORY}
factories = ${DOCKER_FACTORY}
total_processors = 8
${settings}[machinetype dc]
target_share = 1
machine_model = docker
root_image = docker://busybox
user_data = user_data
tmp_binds = /tmp
`;
  const r = loadConfig({
    files: [{ path: join(root.path, "etc/vac.conf"), text }],
    paths,
    hostname: DOCKER_FACTORY,
    hostProcessors: 8,
    fileExists: () => true,
  });
  if (!r.config) throw new Error(JSON.stringify(r.problems));
  const config = r.config;
  const mt = config.machinetypes[0] as Machinetype;
  const launch = async (slot: number): Promise<MachineLaunch> => {
    const name = `wn01-${String(slot).padStart(2, "0")}.example.com`;
    const dir = join(paths.stateDir, "machines", machineDirName(1_700_000_000 + slot, "dc", name));
    for (const sub of ["machinefeatures", "jobfeatures", "joboutputs"])
      await mkdir(join(dir, sub), { recursive: true, mode: 0o755 });
    await writeFile(join(dir, "user_data"), "#!/bin/sh\n", { mode: 0o644 });
    return {
      name,
      uuid: `00000000-0000-4000-8000-0000000000${String(slot).padStart(2, "0")}`,
      slot,
      machinetype: mt,
      settings: config.settings,
      dir,
      processors: 2,
      memoryMb: 4000,
      shutdownTime: 1_700_086_400,
      userData: Buffer.from("#!/bin/sh\n"),
    };
  };
  return { root, config, launch };
}
