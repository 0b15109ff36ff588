/**
 * `vac proxy-init --cert FILE --key FILE [--legacy-proxy]`: prints a limited proxy of the
 * certificate, valid for 12 hours from now, as Vac's did (V391-403, makeX509Proxy U325-434): an
 * RFC 3820 proxy with the limited-proxy policy (U420) whose CN is the time in hundredths of a
 * second (U393-399), or with --legacy-proxy a Globus legacy proxy (`CN=limited proxy`); then its
 * key and the certificate's chain. A certificate that ends within the 12 hours is refused
 * (U356-357). The new key is 2048-bit RSA, not Vac's 1024 bits (U364), which today's TLS
 * defaults reject.
 */
import { VacError } from "@vac/core";
import type { VacCommand } from "./command.js";
import { daemon } from "./daemon.js";

/** Vac's proxies lasted 12 hours (V401). */
export const PROXY_INIT_SECONDS = 43200;

export const proxyInitCommand: VacCommand = {
  command: "proxy-init",
  describe: "print a 12-hour limited proxy made from --cert and --key",
  builder: (y) =>
    y
      .option("cert", {
        alias: "c",
        type: "string",
        demandOption: true,
        describe: "X.509 certificate file (PEM)",
      })
      .option("key", {
        alias: "k",
        type: "string",
        demandOption: true,
        describe: "its private key (PEM, unencrypted)",
      })
      .option("legacy-proxy", {
        alias: "l",
        type: "boolean",
        default: false,
        describe: "make a legacy Globus proxy instead of an RFC 3820 one",
      }),
  async run(args, io) {
    const certPath = String(args.cert);
    const fail = (detail: string) => new VacError("VAC_ERR_PROXY_INIT", { detail });
    const { readProxySigner, signProxy } = await daemon();
    const signer = await readProxySigner(certPath, String(args.key), fail);
    const nowMs = Date.now();
    const now = Math.floor(nowMs / 1000);
    const notAfter = now + PROXY_INIT_SECONDS;
    if (signer.certEnd < notAfter)
      throw fail(
        `the certificate in ${certPath} ends at ${signer.cert.validTo}, within the proxy's 12 hours`,
      );
    const legacy = args["legacy-proxy"] === true;
    io.out(await signProxy(signer, { now, notAfter, legacy, cn: String(Math.floor(nowMs / 10)) }));
    return 0;
  },
};
