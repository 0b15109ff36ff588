/**
 * A test root with, where openssl is here, a real HTTPS server on 127.0.0.1 whose certificate
 * comes from a CA made at test time, trusted only through the grid CA directory under the root.
 * Registers its own before/after hooks; the tests needing the server skip without openssl.
 */
import { join } from "node:path";
import { after, before } from "node:test";
import {
  haveOpenssl,
  makeTempRoot,
  makeTestPki,
  startHttpsServer,
  type TempRoot,
  type TestHttpsServer,
  type TestPki,
} from "@vac/testkit";
import { createLogger, type Logger } from "../../src/log.js";

export interface HttpsRig {
  readonly available: boolean;
  readonly root: TempRoot;
  readonly pki: TestPki;
  readonly server: TestHttpsServer;
}

/**
 * @param caFile the CA's file name in etc/grid-security/certificates
 * @param setup more files for the root, written before the server starts
 */
export function useHttpsRig(
  caFile = "vactest.pem",
  setup: (root: TempRoot, pki: TestPki) => Promise<void> = async () => {},
): HttpsRig {
  const rig = { available: haveOpenssl() } as {
    available: boolean;
    root: TempRoot;
    pki: TestPki;
    server: TestHttpsServer;
  };
  before(async () => {
    rig.root = await makeTempRoot();
    if (!rig.available) return;
    rig.pki = await makeTestPki(join(rig.root.path, "pki"));
    await rig.root.write(`etc/grid-security/certificates/${caFile}`, rig.pki.caCert);
    await setup(rig.root, rig.pki);
    rig.server = await startHttpsServer({ key: rig.pki.serverKey, cert: rig.pki.serverCert });
  });
  after(async () => {
    await rig.server?.close();
    await rig.root.remove();
  });
  return rig;
}

/** A logger whose every line is kept parsed in `events` (level as createLogger's). */
export function eventLogger(events: Record<string, unknown>[], level?: string): Logger {
  return createLogger({ level, destination: { write: (s: string) => void events.push(JSON.parse(s)) } });
}
