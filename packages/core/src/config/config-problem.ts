import { ERROR_CATALOG, type ErrorCode, type ErrorParams, formatTemplate } from "../errors.js";

/** One thing wrong with the configuration, with where it was found. */
export interface ConfigProblem {
  readonly code: ErrorCode;
  readonly severity: "error" | "warning";
  /** Empty when the problem is about the configuration as a whole. */
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export function configProblem(
  code: ErrorCode,
  params: ErrorParams & { file?: string; line?: number },
  severity: "error" | "warning" = "error",
): ConfigProblem {
  const file = params.file ?? "";
  const line = params.line ?? 0;
  const where = file ? `${file}${line ? `:${line}` : ""}` : "configuration";
  return {
    code,
    severity,
    file,
    line,
    message: formatTemplate(ERROR_CATALOG[code].message, { where, ...params, file: file || where, line }),
  };
}

/** `file:line: error CODE: message`, as `vac config check` prints it. */
export function formatConfigProblem(p: ConfigProblem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}` : ""}: ` : "";
  const rest = where && p.message.startsWith(where) ? p.message.slice(where.length) : p.message;
  return `${where || "configuration: "}${p.severity} ${p.code}: ${rest}`;
}

/** Orders problems as the files were read, then by line; whole-configuration ones last. */
export function sortConfigProblems(
  problems: readonly ConfigProblem[],
  fileOrder: readonly string[],
): ConfigProblem[] {
  const rank = (f: string) =>
    f === "" ? Number.MAX_SAFE_INTEGER : fileOrder.indexOf(f) + 1 || fileOrder.length + 1;
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p.file) - rank(b.p.file) || a.p.line - b.p.line || a.i - b.i)
    .map(({ p }) => p);
}

export function hasErrors(problems: readonly ConfigProblem[]): boolean {
  return problems.some((p) => p.severity === "error");
}
