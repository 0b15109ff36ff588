/**
 * Loads the space keyring (`space_key_file`). The file holds the space's shared secrets, so
 * one that others can read or write is refused, not merely warned about: a key every local
 * user can read authenticates nothing.
 */
import { readFile, stat } from "node:fs/promises";
import { type Keyring, parseKeyring, VacError } from "@vac/core";

export async function loadSpaceKeyring(path: string): Promise<Keyring> {
  let mode: number;
  let text: string;
  try {
    mode = (await stat(path)).mode;
    text = await readFile(path, "utf8");
  } catch (e) {
    // The cause keeps the errno (EACCES, ENOENT) for `vac`'s hint.
    throw new VacError("VAC_ERR_SPACE_KEY", { file: path, detail: (e as Error).message }, { cause: e });
  }
  if ((mode & 0o007) !== 0) {
    throw new VacError("VAC_ERR_SPACE_KEY", {
      file: path,
      detail: `mode ${(mode & 0o777).toString(8)} lets every user read or write it (chmod 600 or 640)`,
    });
  }
  const parsed = parseKeyring(text);
  if (!parsed.ok) throw new VacError("VAC_ERR_SPACE_KEY", { file: path, detail: parsed.detail });
  return parsed.keyring;
}
