import { OPTION_DEFINITIONS, type VacConfig } from "@vac/core";

export interface ConfigRow {
  readonly section: string;
  readonly option: string;
  readonly value: string;
  /** `file:line`, or `(default)`. */
  readonly from: string;
}

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function show(value: unknown): string {
  if (value === undefined) return "";
  if (Array.isArray(value))
    return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(" ");
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Every option of the effective configuration, with where its value came from. */
export function configAsRows(config: VacConfig): ConfigRow[] {
  const rows: ConfigRow[] = [];
  const from = (key: string) => {
    const s = config.sources.get(key);
    // Values from a Vacuum Pipe's document name its URL, with no line.
    return s ? (s.line > 0 ? `${s.file}:${s.line}` : s.file) : "(default)";
  };
  const settings = config.settings as unknown as Record<string, unknown>;
  for (const d of OPTION_DEFINITIONS.filter((o) => o.section === "settings")) {
    const value =
      d.name === "factories"
        ? config.settings.factories.map((f) => `${f.name}:${f.port}`)
        : d.name === "factory_addresses"
          ? config.settings.factories.filter((f) => f.host !== f.name).map((f) => `${f.name}=${f.host}`)
          : settings[camel(d.name)];
    rows.push({ section: "settings", option: d.name, value: show(value), from: from(`settings.${d.name}`) });
  }
  for (const [k, v] of Object.entries(config.settings.machinefeaturesOptions ?? {})) {
    rows.push({ section: "settings", option: `machinefeatures_option_${k}`, value: v, from: "" });
  }
  for (const m of config.machinetypes) {
    const values = m as unknown as Record<string, unknown>;
    if (m.disabled !== undefined)
      rows.push({ section: `machinetype ${m.name}`, option: "disabled", value: m.disabled, from: "" });
    for (const d of OPTION_DEFINITIONS.filter((o) => o.section === "machinetype")) {
      rows.push({
        section: `machinetype ${m.name}`,
        option: d.name,
        value: show(values[camel(d.name)]),
        from: from(`machinetype ${m.name}.${d.name}`),
      });
    }
    for (const [k, v] of Object.entries(m.userDataOptions)) {
      rows.push({ section: `machinetype ${m.name}`, option: `user_data_option_${k}`, value: v, from: "" });
    }
    for (const [k, v] of Object.entries(m.userDataFiles)) {
      rows.push({ section: `machinetype ${m.name}`, option: `user_data_file_${k}`, value: v, from: "" });
    }
  }
  for (const p of config.vacuumPipes ?? []) {
    const section = `vacuum_pipe ${p.prefix}`;
    const from = `${p.file}:${p.line}`;
    rows.push({ section, option: "vacuum_pipe_url", value: p.url, from });
    rows.push({ section, option: "target_share", value: String(p.targetShare), from });
  }
  return rows;
}
