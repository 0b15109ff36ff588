/**
 * Builds a machine's contextualization ISO with `genisoimage` (or `xorriso -as mkisofs` where
 * only that is installed), from the files `contextIsoFiles` lists. The files are staged in a
 * directory inside the machine's own directory, which is removed once the image is written.
 * Runs locally: with hypervisor_ssh, the state directory is shared with the hypervisor host.
 */
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { VacError } from "@vac/core";
import type { CommandRunner } from "../hypervisor/command-runner.js";

const TOOLS: readonly (readonly string[])[] = [["genisoimage"], ["xorriso", "-as", "mkisofs"]];

export async function buildContextIso(options: {
  readonly machine: string;
  readonly dir: string;
  readonly files: ReadonlyMap<string, Buffer>;
  readonly runner: CommandRunner;
  readonly timeoutMs: number;
  /** The volume label (core's contextIsoLabel); CONTEXT unless given. */
  readonly label?: string;
}): Promise<string> {
  const staging = join(options.dir, "context");
  const iso = join(options.dir, "context.iso");
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o700 });
  try {
    for (const [name, content] of options.files)
      await writeFile(join(staging, name), content, { mode: 0o600 });
    let lastError = "";
    for (const tool of TOOLS) {
      const argv = [...tool, "-quiet", "-R", "-J", "-V", options.label ?? "CONTEXT", "-o", iso, staging];
      try {
        const r = await options.runner.run(argv, { timeoutMs: options.timeoutMs });
        if (r.code === 0) {
          // user_data may hold secrets (tokens, proxies): the image is for root and QEMU only.
          await chmod(iso, 0o600);
          return iso;
        }
        lastError = `${tool[0]} exited ${r.code}: ${r.stderr.trim().slice(0, 500)}`;
        break;
      } catch (e) {
        // Missing tool: try the next one. Anything else (a timeout) is the answer.
        if ((e as VacError).code !== "VAC_ERR_HYPERVISOR_COMMAND") throw e;
        lastError = (e as Error).message;
      }
    }
    throw new VacError("VAC_ERR_ISO_BUILD", { machine: options.machine, detail: lastError });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
