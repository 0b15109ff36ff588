/**
 * `vac squid-conf IN OUT`: writes OUT as the template IN followed by an `acl localnet` line per
 * factory of the space and a `cache_peer ... sibling` line per other factory (core squid-conf.ts;
 * Vac's makeSquidConf, V246-296), for Puppet to run before restarting squid. OUT is replaced by
 * rename of OUT.tmp, and only when the text changed, so its modification time says when the space
 * changed. Each factory's name is resolved to its first IPv4 address, as Vac's
 * gethostbyname_ex; one that does not resolve is left out. "This factory" is vac.conf's
 * factory_name (the host's FQDN unless set), where Vac compared the names with the host's
 * uname, which never matched an FQDN in `factories` on a host whose uname is short.
 */
import { lookup } from "node:dns/promises";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { formatConfigProblem, type SquidFactory, squidConf, VacError } from "@vac/core";
import { loadConfigFromDisk } from "@vac/vacd/client";
import type { VacCommand } from "./command.js";

async function firstIpv4(name: string): Promise<string | undefined> {
  try {
    return (await lookup(name, { family: 4 })).address;
  } catch {
    return undefined;
  }
}

export const squidConfCommand: VacCommand = {
  command: "squid-conf <in> <out>",
  describe: "write the squid configuration OUT from the template IN, with this space's factories",
  builder: (y) =>
    y
      .positional("in", { type: "string", describe: "the template, such as /etc/squid/squid.conf.vac" })
      .positional("out", {
        type: "string",
        describe: "the configuration to write, such as /etc/squid/squid.conf",
      }),
  async run(args, io) {
    const [input, output] = [String(args.in), String(args.out)];
    const fail = (detail: string) => new VacError("VAC_ERR_SQUID_CONF", { detail });
    const disk = await loadConfigFromDisk({ root: args.root });
    const config = disk.config;
    if (!config) {
      for (const p of disk.problems) io.err(formatConfigProblem(p));
      throw fail("the configuration does not load, so the space's factories are not known");
    }
    let template: string;
    try {
      template = await readFile(input, "utf8");
    } catch (e) {
      throw fail(`cannot read ${input}: ${(e as Error).message}`);
    }
    const factories: SquidFactory[] = [];
    for (const f of config.settings.factories) {
      const ip = await firstIpv4(f.name);
      if (ip === undefined) io.err(`vac: ${f.name} does not resolve to an IPv4 address: left out`);
      factories.push({ name: f.name, ip });
    }
    const text = squidConf(template, factories, config.settings.factoryName);
    const current = await readFile(output, "utf8").catch(() => undefined);
    if (current === text) {
      io.out(`${output} unchanged`);
      return 0;
    }
    const temp = `${output}.tmp`;
    try {
      await writeFile(temp, text);
      await rename(temp, output);
    } catch (e) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw fail(`cannot write ${output}: ${(e as Error).message}`);
    }
    io.out(`wrote ${output} (${factories.filter((f) => f.ip !== undefined).length} factories)`);
    return 0;
  },
};
