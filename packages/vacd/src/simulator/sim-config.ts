/**
 * The configuration a simulated space runs with: the machinetypes and shares of `--machinetypes`
 * (name:share, with vac.conf's defaults for everything else), or the settings and machinetypes of
 * a vac.conf (`--config`), in which case the files its machinetypes name need not exist (the
 * simulated machines run nothing). Each factory gets it with its own name, the space's factory
 * list and its slots; under Vac 3.1's rules (`vac31`), one start a cycle of 60 s.
 */
import { formatConfigProblem, loadConfig, type VacConfig, VacError, vacPaths } from "@vac/core";

export type SimRules = "vacd" | "vac31";

export interface ShareSpec {
  readonly name: string;
  readonly share: number;
}

/** `a:3,b:2,c:1` */
export function parseShares(text: string): ShareSpec[] {
  const out: ShareSpec[] = [];
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]+)[:=]([0-9]+(?:\.[0-9]+)?)$/.exec(part);
    if (!m) throw new VacError("VAC_ERR_USAGE", { detail: `not NAME:SHARE: ${part}` });
    out.push({ name: m[1] as string, share: Number(m[2]) });
  }
  if (out.length === 0) throw new VacError("VAC_ERR_USAGE", { detail: "no machinetypes given" });
  return out;
}

export const SIM_SPACE = "sim.vac.test";

/** A vac.conf for `--machinetypes`: the shares, and every other option at its default. */
export function confFor(shares: readonly ShareSpec[]): string {
  return `[settings]
vac_space = ${SIM_SPACE}
factory_name = f0000.${SIM_SPACE}
factories = f0000.${SIM_SPACE}
${shares
  .map(
    (s) => `[machinetype ${s.name}]
target_share = ${s.share}
machine_model = kernel
kernel = vmlinuz
user_data = user_data
`,
  )
  .join("")}`;
}

/** The configuration in `text` (a vac.conf), its problems reported all at once. */
export function parseSimConfig(text: string, file = "vac.conf"): VacConfig {
  const paths = vacPaths("/simulated");
  const r = loadConfig({
    files: [{ path: file, text }],
    paths,
    hostname: `f0000.${SIM_SPACE}`,
    hostProcessors: 1024,
    fileExists: () => true,
  });
  const errors = r.problems.filter((p) => p.severity === "error");
  if (!r.config || errors.length > 0)
    throw new VacError("VAC_ERR_USAGE", {
      detail: `${file}: ${errors.map((p) => formatConfigProblem(p)).join("; ") || "no configuration"}`,
    });
  return r.config;
}

/** `base` for factory `name` of `names`, with `slots` processors and machines. */
export function factoryConfig(
  base: VacConfig,
  name: string,
  factories: VacConfig["settings"]["factories"],
  slots: number,
  rules: SimRules,
): VacConfig {
  return {
    ...base,
    settings: {
      ...base.settings,
      vacSpace: base.settings.vacSpace || SIM_SPACE,
      factoryName: name,
      factories,
      totalProcessors: slots,
      totalMachines: slots,
      draining: false,
      ...(rules === "vac31" ? { maxStartsPerCycle: 1, cycleSeconds: 60 } : {}),
    },
    // The simulated machines read nothing: no files, no proxies to make.
    machinetypes: base.machinetypes.map((m) => ({
      ...m,
      userDataFiles: {},
      userDataProxy: false,
      disabled: undefined,
    })),
  };
}

/** `config` with new target shares for the machinetypes named. */
export function withShares(config: VacConfig, shares: readonly ShareSpec[]): VacConfig {
  const by = new Map(shares.map((s) => [s.name, s.share]));
  return {
    ...config,
    machinetypes: config.machinetypes.map((m) =>
      by.has(m.name) ? { ...m, targetShare: by.get(m.name) as number } : m,
    ),
  };
}
