/**
 * The demo space's configuration: N factories on 127.0.0.x, each with its own root, sharing one
 * space and one set of process machinetypes whose pilots take work from demo task queues.
 * Written as a site would write vac.conf, so the demo also shows what a configuration looks like.
 */

export interface DemoExperiment {
  readonly name: string;
  readonly share: number;
  /** Tasks in the queue at the start; the demo runs one experiment dry on purpose. */
  readonly tasks: number;
}

export interface DemoSpaceOptions {
  readonly space: string;
  readonly factories: number;
  readonly processorsPerFactory: number;
  readonly port: number;
  /** Last octet of the first factory's 127.0.0.x address. */
  readonly firstAddress: number;
  readonly experiments: readonly DemoExperiment[];
  readonly queueDir: (experiment: string) => string;
  readonly cycleSeconds: number;
  readonly backoffSeconds: number;
  readonly fizzleSeconds: number;
  readonly maxWallclockSeconds: number;
  readonly tasksPerMachine: number;
}

export const DEFAULT_DEMO: Omit<DemoSpaceOptions, "queueDir" | "port"> = {
  space: "demo.vac.test",
  factories: 3,
  processorsPerFactory: 4,
  firstAddress: 11,
  experiments: [
    { name: "atlas", share: 3, tasks: 100_000 },
    { name: "cms", share: 2, tasks: 100_000 },
    { name: "lhcb", share: 1, tasks: 6 },
  ],
  cycleSeconds: 2,
  backoffSeconds: 30,
  fizzleSeconds: 8,
  maxWallclockSeconds: 300,
  tasksPerMachine: 3,
};

export function demoFactoryName(options: Pick<DemoSpaceOptions, "space">, index: number): string {
  return `factory${index + 1}.${options.space}`;
}

export function demoFactoryAddress(options: Pick<DemoSpaceOptions, "firstAddress">, index: number): string {
  return `127.0.0.${options.firstAddress + index}`;
}

/** Where factory `index` serves its status page and /metrics (TCP, the space's port number). */
export function demoStatusAddress(
  options: Pick<DemoSpaceOptions, "firstAddress" | "port">,
  index: number,
): string {
  return `${demoFactoryAddress(options, index)}:${options.port}`;
}

/** The vac.conf of factory `index` (0-based). */
export function demoVacConf(options: DemoSpaceOptions, index: number): string {
  const names = Array.from({ length: options.factories }, (_, i) => demoFactoryName(options, i));
  const addresses = names.map((n, i) => `${n}=${demoFactoryAddress(options, i)}`);
  const lines = [
    `# vac.conf of ${names[index]}, written by \`vac demo\`.`,
    "[settings]",
    `vac_space = ${options.space}`,
    `factory_name = ${names[index]}`,
    "factories =",
    ...names.map((n) => `  ${n}`),
    "factory_addresses =",
    ...addresses.map((a) => `  ${a}`),
    `udp_port = ${options.port}`,
    `udp_bind_address = ${demoFactoryAddress(options, index)}`,
    "udp_timeout_seconds = 2",
    "# The status page (http://ADDRESS:PORT/) and /metrics: TCP on the space's port number.",
    `metrics_address = ${demoStatusAddress(options, index)}`,
    `total_processors = ${options.processorsPerFactory}`,
    `total_machines = ${options.processorsPerFactory}`,
    `cycle_seconds = ${options.cycleSeconds}`,
    "# Machines live seconds here, not hours: the census polls as often as it may, so that each",
    "# factory's view of the others is not older than several of their machines' lives.",
    "census_seconds = 3",
    "machine_model = process",
    "# The demo's factories share one host and its load average: do not let it refuse starts.",
    "overload_per_processor = 100",
    "",
  ];
  for (const e of options.experiments) {
    lines.push(
      `[machinetype ${e.name}]`,
      `target_share = ${e.share}`,
      "machine_model = process",
      "user_data = user_data",
      `user_data_option_queue = ${options.queueDir(e.name)}`,
      `user_data_option_tasks_per_machine = ${options.tasksPerMachine}`,
      `backoff_seconds = ${options.backoffSeconds}`,
      `fizzle_seconds = ${options.fizzleSeconds}`,
      `max_wallclock_seconds = ${options.maxWallclockSeconds}`,
      "",
    );
  }
  return lines.join("\n");
}
