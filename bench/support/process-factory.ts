/**
 * For the benchmarks of `process` machines: a factory's root whose one machinetype, "work",
 * runs a payload that sleeps ten minutes, with as many slots as `slots`.
 */
import type { TempRoot } from "@vac/testkit";
import { cpuinfoText } from "@vac/vacd";

export interface ProcessFactoryOptions {
  readonly space: string;
  readonly factory: string;
  /** The space's factories (default: this one alone). */
  readonly factories?: readonly string[];
  readonly slots: number;
  /** More [settings] lines. */
  readonly settings?: readonly string[];
}

/** Writes vac.conf, proc/cpuinfo and the payload under `root`. */
export async function writeProcessFactory(root: TempRoot, o: ProcessFactoryOptions): Promise<void> {
  await root.write(
    "etc/vac.conf",
    [
      "[settings]",
      `vac_space = ${o.space}`,
      `factory_name = ${o.factory}`,
      `factories = ${(o.factories ?? [o.factory]).join(" ")}`,
      ...(o.settings ?? []),
      `total_processors = ${o.slots}`,
      `total_machines = ${o.slots}`,
      "[machinetype work]",
      "target_share = 1",
      "machine_model = process",
      "user_data = user_data",
      "",
    ].join("\n"),
  );
  // As many processors as slots, whatever this host has (more would be refused, S231-245).
  await root.write("proc/cpuinfo", cpuinfoText(o.slots));
  await root.write("var/lib/vac/machinetypes/work/files/user_data", "#!/bin/sh\nsleep 600\n");
}
