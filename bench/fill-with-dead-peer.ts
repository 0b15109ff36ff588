/**
 * Time to fill an empty 32-slot factory when one factory of the space is dead (goal < 10 s): a
 * real `vacd` with `process` machines and the default `max_starts_per_cycle`, from its start to its
 * 32nd `machine_started`. Vac started one machine a 60 s cycle and each start waited the whole
 * poll on the dead peer (10.3 s measured), so its figure is 32 x 70 s; the ratio is printed
 * against that. Run twice: the dead peer's host refusing the queries (ICMP port unreachable,
 * which the census's lane hears, so it is given up at once), and its host down (a socket that
 * never answers: the census waits its 3 s bound).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { makeTempRoot } from "@vac/testkit";
import { sleep } from "./support/net-bench.js";
import { writeProcessFactory } from "./support/process-factory.js";

const VACD = join(import.meta.dirname, "../../packages/vacd/bin/vacd.js");
const SLOTS = 32;
async function fill(dead: "refusing" | "down"): Promise<void> {
  const root = await makeTempRoot("vac-bench-fill-");
  const port = 20000 + Math.floor(Math.random() * 20000);
  // Down: a socket at the dead peer's address and port that reads and never answers.
  const silent = dead === "down" ? createSocket("udp4") : undefined;
  if (silent) await new Promise<void>((r) => silent.bind(port, "127.0.0.189", () => r()));
  await writeProcessFactory(root, {
    space: "fill.vac.test",
    factory: "me.fill.vac.test",
    factories: ["me.fill.vac.test", "dead.fill.vac.test"],
    slots: SLOTS,
    settings: [
      "factory_addresses = me.fill.vac.test=127.0.0.188 dead.fill.vac.test=127.0.0.189",
      `udp_port = ${port}`,
      "udp_bind_address = 127.0.0.188",
      // The shared machine's load average is not what is measured.
      "overload_per_processor = 1000",
    ],
  });

  const started = performance.now();
  const vacd: ChildProcess = spawn(process.execPath, [VACD, "--root", root.path], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const times: number[] = [];
  let buffer = "";
  vacd.stdout?.on("data", (d) => {
    buffer += String(d);
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.includes('"machine_started"')) times.push(performance.now() - started);
      nl = buffer.indexOf("\n");
    }
  });
  const deadline = performance.now() + 120_000;
  while (times.length < SLOTS && performance.now() < deadline) await sleep(50);
  const exited = new Promise((r) => vacd.once("exit", r));
  vacd.kill("SIGTERM");
  await exited;
  // The machines are processes that outlive vacd by design: end them.
  const machines = join(root.path, "var/lib/vac/machines");
  for (const dir of await readdir(machines).catch(() => [])) {
    const text = await readFile(join(machines, dir, "process.json"), "utf8").catch(() => "");
    const pid = Number(/"pid"\s*:\s*(\d+)/.exec(text)?.[1]);
    if (pid > 1) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  silent?.close();
  await rm(root.path, { recursive: true, force: true });
  const fill = (times.at(-1) ?? Number.NaN) / 1000;
  const vac = SLOTS * (60 + 10.3);
  console.log(
    `${times.length}/${SLOTS} machines started; first after ${((times[0] ?? Number.NaN) / 1000).toFixed(2)} s, all after ${fill.toFixed(2)} s with one dead peer, ${dead === "down" ? "its host down (silent)" : "its host refusing (ICMP port unreachable)"} (goal < 10 s); Vac 3.1: about ${vac.toFixed(0)} s; ratio ${(fill / vac).toFixed(4)}`,
  );
}

await fill("refusing");
await fill("down");
