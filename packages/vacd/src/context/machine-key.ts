/**
 * One SSH key pair per machine (an idea from glideinWMS: a leaked key exposes one machine, not
 * the site). Generated in-process as Ed25519 and written in OpenSSH's own formats, so no
 * `ssh-keygen` process is spawned per machine; the private half is readable by root only and is
 * removed with the machine's other heavy files.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";

export interface MachineKeyPair {
  /** `ssh-ed25519 AAAA... comment` (authorized_keys format, no newline). */
  readonly publicKey: string;
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` ... */
  readonly privateKey: string;
}

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data) : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function generateMachineKeyPair(comment: string): MachineKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d ?? "", "base64url");
  const publicBlob = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);
  // The openssh-key-v1 format, unencrypted: a check number twice, the key, the comment, and
  // padding 1, 2, 3... to the cipher block size (8 for "none").
  const check = randomBytes(4);
  let secret = Buffer.concat([
    check,
    check,
    sshString("ssh-ed25519"),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const pad = (8 - (secret.length % 8)) % 8;
  secret = Buffer.concat([secret, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const blob = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    uint32(1),
    sshString(publicBlob),
    sshString(secret),
  ]);
  const lines = blob.toString("base64").match(/.{1,70}/g) ?? [];
  return {
    publicKey: `ssh-ed25519 ${publicBlob.toString("base64")} ${comment}`,
    privateKey: [
      "-----BEGIN OPENSSH PRIVATE KEY-----",
      ...lines,
      "-----END OPENSSH PRIVATE KEY-----",
      "",
    ].join("\n"),
  };
}
