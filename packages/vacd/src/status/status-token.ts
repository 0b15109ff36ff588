/**
 * `status_token_file`: the token the status page and /api/space require. The file is read as
 * hostile, like space_key_file (net/space-key.ts): refused when others may read or write it,
 * read only when it is a regular file and never past a bound, and its token must be at least
 * 16 visible ASCII characters. A request's token is compared in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { VacError } from "@vac/core";

export const STATUS_TOKEN_MAX_BYTES = 4096;
const MIN_LENGTH = 16;

export async function loadStatusToken(path: string): Promise<string> {
  const refuse = (detail: string, cause?: unknown) =>
    new VacError("VAC_ERR_STATUS_TOKEN", { file: path, detail }, cause ? { cause } : undefined);
  let file: FileHandle | undefined;
  let text: string;
  try {
    file = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    const st = await file.stat();
    if (!st.isFile()) throw refuse("not a regular file");
    if ((st.mode & 0o007) !== 0)
      throw refuse(
        `mode ${(st.mode & 0o777).toString(8)} lets every user read or write it (chmod 600 or 640)`,
      );
    // One byte past the bound, so that a file grown since stat() is refused too.
    const buf = Buffer.alloc(STATUS_TOKEN_MAX_BYTES + 1);
    const { bytesRead } = await file.read(buf, 0, buf.length, 0);
    if (st.size > STATUS_TOKEN_MAX_BYTES || bytesRead > STATUS_TOKEN_MAX_BYTES)
      throw refuse(`larger than ${STATUS_TOKEN_MAX_BYTES} bytes`);
    text = buf.subarray(0, bytesRead).toString("utf8");
  } catch (e) {
    if (e instanceof VacError) throw e;
    throw refuse((e as Error).message, e);
  } finally {
    await file?.close();
  }
  const token = (text.split("\n")[0] ?? "").trim();
  if (!/^[\x21-\x7e]+$/.test(token) || token.length < MIN_LENGTH)
    throw refuse(`the first line must be a token of at least ${MIN_LENGTH} visible ASCII characters`);
  return token;
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/**
 * Whether an `Authorization` header bears `token`. Both sides are hashed first, so the
 * comparison takes the same time whatever the header's length and wherever it differs.
 */
export function bearsToken(header: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  return timingSafeEqual(digest(m?.[1] ?? ""), digest(token)) && m !== null;
}
