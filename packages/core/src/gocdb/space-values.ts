/**
 * The values a factory sends to GOCDB for its space, made as Vac 3's updateGOCDB made them
 * (S3284-3386): the space's capacity summed over the static catalogue and the census files, and
 * the shares of its VOs from this factory's machinetypes.
 *
 * The catalogue (`/var/lib/vac/space-catalogue.json`, a JSON object of factory name to
 * `{max_processors, max_machines, max_hs06}`) is counted first (S3296-3316); a census file of a
 * factory the catalogue names is never counted on top of it (S3320-3323), even when its
 * catalogue entry was malformed, as in Vac. Census files count while younger than the update
 * period (S3325-3335; the caller says which are). Unlike Vac, an entry is added only when all
 * three of its figures are numbers: Vac added the ones before the first bad figure without
 * counting the factory.
 *
 * The shares: every machinetype with an accounting_fqan adds `VOMS:FQAN` to the policy rule; one
 * with a target share also adds that share to its VO, the FQAN's first component (`/lhcb/...`
 * is `lhcb`), and each VO's percentage of the shares is rounded half up (S3339-3368).
 */

export const GOCDB_SERVICE_TYPE = "uk.ac.gridpp.vac";

/** One factory's capacity, as a census file or a catalogue entry gives it (Vac's names). */
export interface FactoryCapacity {
  readonly max_processors: number;
  readonly max_machines: number;
  readonly max_hs06: number;
}

export interface CensusFileContent {
  /** The file's name: the factory that answered. */
  readonly factory: string;
  /** The file's text (the factory_status reply as it came), or undefined when unreadable. */
  readonly text: string | undefined;
}

export interface GocdbMachinetype {
  readonly name: string;
  readonly targetShare: number;
  readonly accountingFqan: string | undefined;
}

export interface SpaceValuesInput {
  /** The catalogue's text, or undefined when there is no catalogue. */
  readonly catalogueText: string | undefined;
  /** The census files that count (younger than the update period). */
  readonly census: readonly CensusFileContent[];
  readonly machinetypes: readonly GocdbMachinetype[];
  readonly version: string;
  /** Unix seconds. */
  readonly now: number;
}

/** What was counted, and what was not and why: `vac gocdb` and vacd's log say both. */
export interface SpaceValuesResult {
  readonly values: Record<string, string | number>;
  readonly catalogueCounted: readonly string[];
  readonly censusCounted: readonly string[];
  /** Census files of factories the catalogue names, not counted twice. */
  readonly censusInCatalogue: readonly string[];
  readonly problems: readonly string[];
}

/** The three figures, each a finite number not below zero, or why not. */
export function readCapacity(value: unknown): FactoryCapacity | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const v = value as Record<string, unknown>;
  for (const key of ["max_processors", "max_machines", "max_hs06"] as const) {
    const n = v[key];
    if (typeof n !== "number" || !Number.isFinite(n) || n < 0)
      return `${key} is ${n === undefined ? "missing" : JSON.stringify(n)}, not a number of at least 0`;
  }
  return v as unknown as FactoryCapacity;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return new Error((e as Error).message);
  }
}

/** `2024-05-01T12:00:00Z`: UTC to the second, as Vac wrote it (S3370). */
export function gocdbTime(now: number): string {
  return `${new Date(Math.floor(now) * 1000).toISOString().slice(0, 19)}Z`;
}

export function gocdbSpaceValues(input: SpaceValuesInput): SpaceValuesResult {
  const problems: string[] = [];
  const catalogueCounted: string[] = [];
  const censusCounted: string[] = [];
  const censusInCatalogue: string[] = [];
  let factories = 0;
  let processors = 0;
  let machines = 0;
  let hs06 = 0;
  const add = (c: FactoryCapacity) => {
    factories += 1;
    processors += c.max_processors;
    machines += c.max_machines;
    hs06 += c.max_hs06;
  };
  let catalogue: Record<string, unknown> = {};
  if (input.catalogueText !== undefined) {
    const parsed = parseJson(input.catalogueText);
    if (parsed instanceof Error) problems.push(`space-catalogue.json: ${parsed.message}`);
    else if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      problems.push("space-catalogue.json: not a JSON object of factory names");
    else catalogue = parsed as Record<string, unknown>;
  }
  for (const [name, entry] of Object.entries(catalogue)) {
    const c = readCapacity(entry);
    if (typeof c === "string") problems.push(`space-catalogue.json: ${name}: ${c}`);
    else {
      add(c);
      catalogueCounted.push(name);
    }
  }
  for (const file of input.census) {
    if (Object.hasOwn(catalogue, file.factory)) {
      censusInCatalogue.push(file.factory);
      continue;
    }
    if (file.text === undefined) {
      problems.push(`census file ${file.factory}: unreadable`);
      continue;
    }
    const parsed = parseJson(file.text);
    const c = parsed instanceof Error ? parsed.message : readCapacity(parsed);
    if (typeof c === "string") problems.push(`census file ${file.factory}: ${c}`);
    else {
      add(c);
      censusCounted.push(file.factory);
    }
  }
  const { otherInfo, policyRule } = sharesInfo(input.machinetypes);
  const values: Record<string, string | number> = {
    ComputingManagerCreationTime: gocdbTime(input.now),
    ComputingManagerProductName: "Vac",
    ComputingManagerProductVersion: input.version,
    ComputingManagerTotalLogicalCPUs: processors,
    ComputingManagerTotalSlots: machines,
    // Factories, not physical CPUs: Vac's own comment (S3376).
    ComputingManagerTotalPhysicalCPUs: factories,
    BenchmarkType: "specint2000",
    BenchmarkValue: hs06 * 250,
  };
  if (otherInfo) values.ComputingManagerOtherInfo = otherInfo;
  if (policyRule) {
    values.PolicyRule = policyRule;
    values.PolicyScheme = "org.glite.standard";
  }
  return { values, catalogueCounted, censusCounted, censusInCatalogue, problems };
}

/** `Share=VO:NN,...` and `VOMS:FQAN,...` from the machinetypes, in their order (S3339-3368). */
export function sharesInfo(machinetypes: readonly GocdbMachinetype[]): {
  otherInfo: string;
  policyRule: string;
} {
  const rules: string[] = [];
  const voShares = new Map<string, number>();
  let total = 0;
  for (const mt of machinetypes) {
    if (mt.accountingFqan === undefined) continue;
    rules.push(`VOMS:${mt.accountingFqan}`);
    const share = Number.isFinite(mt.targetShare) ? mt.targetShare : 0;
    if (!share) continue;
    // Python's fqan.split('/')[1]: an FQAN without a '/' names no VO and adds no share.
    const parts = mt.accountingFqan.split("/");
    if (parts.length < 2) continue;
    const vo = parts[1] as string;
    voShares.set(vo, (voShares.get(vo) ?? 0) + share);
    total += share;
  }
  const otherInfo = [...voShares]
    .map(([vo, share]) => `Share=${vo}:${Math.floor(0.5 + (100 * share) / total)}`)
    .join(",");
  return { otherInfo, policyRule: rules.join(",") };
}
