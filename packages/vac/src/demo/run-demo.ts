/**
 * `vac demo`: a Vac space of three factories on this machine, each a real vacd process on its
 * own 127.0.0.x address, running process machines whose pilots take work from demo task queues.
 * One experiment's queue runs dry, so its machines end with `300 No more work` and the whole
 * space backs off from it. Everything lives in one directory; Ctrl-C stops the factories and
 * every machine and leaves nothing running.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, openSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { EXIT, foldCensus, type MachinetypeStatus, VacError, vacPaths } from "@vac/core";
import { cpuinfoText, loadConfigFromDisk, pollSpace } from "@vac/vacd";
import type { Io } from "../commands/command.js";
import { summariseMachinetypes } from "../format/machinetypes-table.js";
import { renderTable } from "../format/table.js";
import {
  DEFAULT_DEMO,
  type DemoSpaceOptions,
  demoFactoryAddress,
  demoStatusAddress,
  demoVacConf,
} from "./demo-config.js";
import { DEMO_PAYLOAD } from "./demo-payload.js";

const VACD = new URL("../../../../vacd/bin/vacd.js", import.meta.url).pathname;
const MARKER = ".vac-demo";

async function freePort(addresses: readonly string[]): Promise<number> {
  for (const port of [9951, 9961, 9971, 19951, 29951]) {
    const sockets = addresses.map(() => createSocket("udp4"));
    const ok = await Promise.all(
      sockets.map(
        (s, i) =>
          new Promise<boolean>((r) =>
            s.once("error", () => r(false)).bind(port, addresses[i], () => r(true)),
          ),
      ),
    );
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (ok.every(Boolean)) return port;
  }
  throw new VacError("VAC_ERR_NET_BIND", {
    address: addresses.join(","),
    port: 9951,
    detail: "no free demo port",
  });
}

async function prepare(dir: string): Promise<DemoSpaceOptions> {
  if (existsSync(dir) && !existsSync(join(dir, MARKER)) && (await readdir(dir)).length > 0) {
    throw new VacError("VAC_ERR_USAGE", {
      detail: `${dir} exists and is not a demo directory; choose another with --dir`,
    });
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, MARKER), "made by vac demo; removed and remade by the next one\n");
  const addresses = Array.from({ length: DEFAULT_DEMO.factories }, (_, i) =>
    demoFactoryAddress(DEFAULT_DEMO, i),
  );
  const options: DemoSpaceOptions = {
    ...DEFAULT_DEMO,
    port: await freePort(addresses),
    queueDir: (e) => join(dir, "queues", e),
  };
  for (const e of options.experiments) {
    for (const sub of ["pending", "running", "done"])
      await mkdir(join(options.queueDir(e.name), sub), { recursive: true });
    const n = Math.min(e.tasks, 400);
    for (let t = 0; t < n; t++) {
      await writeFile(
        join(options.queueDir(e.name), "pending", `task-${String(t).padStart(5, "0")}`),
        `${3 + (t % 5)}\n`,
      );
    }
  }
  for (let i = 0; i < options.factories; i++) {
    const root = join(dir, `factory${i + 1}`);
    await mkdir(join(root, "etc"), { recursive: true });
    await writeFile(join(root, "etc/vac.conf"), demoVacConf(options, i));
    // The demo's factories share this host: each says it has the processors it is given, or
    // more than this host has would be refused as Vac refused it (S231-245).
    await mkdir(join(root, "proc"), { recursive: true });
    await writeFile(join(root, "proc/cpuinfo"), cpuinfoText(options.processorsPerFactory));
    for (const e of options.experiments) {
      const files = join(root, "var/lib/vac/machinetypes", e.name, "files");
      await mkdir(files, { recursive: true });
      await writeFile(join(files, "user_data"), DEMO_PAYLOAD);
    }
  }
  return options;
}

async function killMachines(root: string): Promise<void> {
  const machines = vacPaths(root).machinesDir;
  for (const name of await readdir(machines).catch(() => [])) {
    const text = await readFile(join(machines, name, "process.json"), "utf8").catch(() => "");
    const pid = Number(/"pid":(\d+)/.exec(text)?.[1]);
    if (pid > 1) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

async function summary(options: DemoSpaceOptions, root: string, started: number): Promise<string> {
  const config = (await loadConfigFromDisk({ root })).config;
  if (!config) return "demo configuration unreadable";
  const poll = await pollSpace({
    factories: config.settings.factories,
    space: config.settings.vacSpace,
    queryType: "machinetypes_query",
    timeoutSeconds: 2,
    daemonVersion: "vac-demo",
    now: () => Date.now() / 1000,
  });
  const replies = poll.replies.filter((r): r is MachinetypeStatus => r.messageType === "machinetype_status");
  const rows = summariseMachinetypes(replies);
  const totals = foldCensus(replies, 1);
  const totalShare = options.experiments.reduce((s, e) => s + e.share, 0);
  const slots = options.factories * options.processorsPerFactory;
  const now = Date.now() / 1000;
  const lines = await Promise.all(
    options.experiments.map(async (e) => {
      const row = rows.find((r) => r.machinetype === e.name);
      const t = totals.get(e.name);
      const until =
        t && t.lastAbort > 0
          ? t.lastAbort + options.backoffSeconds + (t.beforeFizzle > 0 ? options.fizzleSeconds : 0)
          : 0;
      const pending = (await readdir(join(options.queueDir(e.name), "pending")).catch(() => [])).length;
      const done = (await readdir(join(options.queueDir(e.name), "done")).catch(() => [])).length;
      return [
        e.name,
        `${row?.running ?? 0}`,
        `${Math.round((slots * e.share) / totalShare)}`,
        `${pending}/${done}`,
        row?.lastMessage ?? "",
        until > now ? `${Math.ceil(until - now)}s` : "",
      ];
    }),
  );
  const table = renderTable(
    [
      { header: "Machinetype" },
      { header: "Running", right: true },
      { header: "Target", right: true },
      { header: "Queue left/done", right: true },
      { header: "Last outcome", max: 30 },
      { header: "Backoff" },
    ],
    lines,
  );
  const silent = poll.silent.length > 0 ? `\nno reply from: ${poll.silent.join(" ")}` : "";
  return `Vac demo space ${options.space}: ${options.factories} factories, ${slots} slots, ${Math.round(now - started)}s\n\n${table}${silent}`;
}

export async function runDemo(dirArg: string, durationSeconds: number | undefined, io: Io): Promise<number> {
  const dir = resolve(dirArg);
  const options = await prepare(dir);
  const roots = Array.from({ length: options.factories }, (_, i) => join(dir, `factory${i + 1}`));
  const daemons: ChildProcess[] = roots.map((root) => {
    const log = openSync(join(root, "vacd.log"), "a");
    return spawn(process.execPath, [VACD, "--root", root], { stdio: ["ignore", log, log] });
  });
  // A vacd that ends by itself (a log level it does not know in VAC_LOG_LEVEL, a port taken
  // meanwhile) would leave the demo polling a space that is not there: the demo ends with it,
  // saying why from the end of that vacd's log.
  let stopping = false;
  let died: { root: string; status: string } | undefined;
  let wake = () => {};
  for (const [i, d] of daemons.entries())
    d.once("exit", (code, signal) => {
      if (stopping || died) return;
      died = { root: roots[i] ?? dir, status: signal ?? `status ${code}` };
      wake();
    });
  const rel = relative(process.cwd(), roots[0] ?? dir) || ".";
  io.err(`Started ${daemons.length} factories (logs: ${rel}/vacd.log, ...).`);
  io.err(`From another terminal:  npx vac machines --root ${rel}   (or machinetypes, factories)`);
  io.err(`The space at a glance, in a browser:  http://${demoStatusAddress(options, 0)}/`);
  io.err("Ctrl-C stops the demo.\n");
  const started = Date.now() / 1000;
  let timer: NodeJS.Timeout | undefined;
  const stopped = new Promise<void>((r) => {
    wake = r;
    process.once("SIGINT", () => r());
    process.once("SIGTERM", () => r());
    if (durationSeconds !== undefined) timer = setTimeout(r, durationSeconds * 1000);
  }).then(() => {
    stopping = true;
    clearTimeout(timer);
  });
  const tty = process.stdout.isTTY === true;
  while (!stopping) {
    const text = await summary(options, roots[0] ?? dir, started).catch((e) => `(${String(e)})`);
    if (stopping) break;
    io.out(tty ? `\u001b[2J\u001b[H${text}` : `${text}\n`);
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 2000))]);
  }
  io.err("\nStopping: factories first, then every machine.");
  await Promise.all(
    daemons.map((d) =>
      d.exitCode !== null
        ? Promise.resolve()
        : new Promise<void>((r) => d.once("exit", () => r()).kill("SIGTERM")),
    ),
  );
  for (const root of roots) await killMachines(root);
  io.err(`Stopped. The demo's files are in ${relative(process.cwd(), dir) || "."}/ for a look.`);
  if (died) {
    const log = join(died.root, "vacd.log");
    const tail = (await readFile(log, "utf8").catch(() => "")).trimEnd().split("\n").slice(-5);
    io.err(
      `vac: the vacd of ${relative(process.cwd(), died.root) || "."} exited (${died.status}); the end of ${log}:`,
    );
    io.err(tail.map((l) => `  ${l.slice(0, 300)}`).join("\n"));
    return EXIT.software;
  }
  return 0;
}
