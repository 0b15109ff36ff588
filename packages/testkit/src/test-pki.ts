/**
 * A throw-away PKI made at test time with the openssl command: a CA, a server certificate for
 * 127.0.0.1, and a user (end-entity) certificate like a machinetype's x509cert.pem. Nothing of
 * it is kept in the repository.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const OPENSSL = "/usr/bin/openssl";

export function haveOpenssl(): boolean {
  return existsSync(OPENSSL);
}

export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly caCertPath: string;
  readonly serverKey: string;
  readonly serverCert: string;
  /** A user certificate signed by the CA and its unencrypted key. */
  readonly userCertPath: string;
  readonly userKeyPath: string;
}

export function openssl(args: readonly string[], cwd?: string): Promise<{ stdout: string; stderr: string }> {
  return run(OPENSSL, [...args], { cwd, timeout: 30_000 });
}

/** A new unencrypted RSA key, `name`.key, and its certificate request for `subject`, `name`.csr. */
async function makeKeyAndCsr(dir: string, name: string, subject: string): Promise<void> {
  await openssl(
    [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      subject,
    ],
    dir,
  );
}

/**
 * Signs `name`.csr in a test PKI's directory with its CA into `name`.pem, valid `days`, with the
 * extensions in `ext` (openssl's extension-file lines) when given.
 */
export async function signWithTestCa(dir: string, name: string, days: number, ext?: string): Promise<void> {
  if (ext !== undefined) await writeFile(join(dir, `${name}.ext`), ext);
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      String(days),
      "-sha256",
      ...(ext === undefined ? [] : ["-extfile", `${name}.ext`]),
      "-out",
      `${name}.pem`,
    ],
    dir,
  );
}

export async function makeTestPki(dir: string, options: { userDays?: number } = {}): Promise<TestPki> {
  await mkdir(dir, { recursive: true });
  await openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/DC=test/DC=vac/CN=Vac Test CA",
      "-addext",
      "basicConstraints=critical,CA:true",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  for (const [name, subj] of [
    ["server", "/CN=127.0.0.1"],
    ["user", "/DC=test/DC=vac/O=Example/CN=lhcb pilot"],
  ] as const) {
    await makeKeyAndCsr(dir, name, subj);
  }
  await signWithTestCa(dir, "server", 2, "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  await signWithTestCa(
    dir,
    "user",
    options.userDays ?? 2,
    "basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
  );
  return {
    dir,
    caCert: await readFile(join(dir, "ca.pem"), "utf8"),
    caCertPath: join(dir, "ca.pem"),
    serverKey: await readFile(join(dir, "server.key"), "utf8"),
    serverCert: await readFile(join(dir, "server.pem"), "utf8"),
    userCertPath: join(dir, "user.pem"),
    userKeyPath: join(dir, "user.key"),
  };
}

/** Another user certificate of the test CA, with its own subject: `name`.pem and `name`.key. */
export async function makeTestUserCert(
  pki: TestPki,
  name: string,
  subject: string,
): Promise<{ certPath: string; keyPath: string }> {
  await makeKeyAndCsr(pki.dir, name, subject);
  await signWithTestCa(
    pki.dir,
    name,
    2,
    "basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
  );
  return { certPath: join(pki.dir, `${name}.pem`), keyPath: join(pki.dir, `${name}.key`) };
}
