import { type LoadConfigResult, loadConfig, vacPaths } from "../src/index.js";

export const ROOT = "/r";
export const FILES = `${ROOT}/var/lib/vac/machinetypes`;

/**
 * Loads texts as if they were these files under /r; `existing` are the files that exist. The
 * host has 8 processors unless `hostProcessors` says otherwise.
 */
export function loadTexts(
  files: Record<string, string>,
  options: { hostname?: string; existing?: string[]; hostProcessors?: number } = {},
): LoadConfigResult {
  const existing = new Set(options.existing ?? []);
  return loadConfig({
    files: Object.entries(files).map(([path, text]) => ({ path, text })),
    paths: vacPaths(ROOT),
    hostname: options.hostname ?? "wn01.example.com",
    hostProcessors: options.hostProcessors ?? 8,
    fileExists: (p) => existing.has(p),
  });
}

export const MINIMAL = `[settings]
vac_space = vac01.example.com
factories = wn01.example.com wn02.example.com
[machinetype lhcb]
target_share = 1
machine_model = process
user_data = user_data
`;
