/**
 * The factory's Prometheus metrics (prom-client), fed from what vacd already has: the view the
 * loop publishes (machines by state and machinetype; creations and ends, seen as a machine's
 * life appears or is first seen shut down), the census polls (latency, peers answering), the
 * configuration watcher (reloads), and the responder's own counters, read at scrape time.
 */
import { type DropReason, type ResponderView, shutdownCode } from "@vac/core";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export interface ResponderCounters {
  readonly answeredCount: number;
  dropCounts(): ReadonlyMap<DropReason, number>;
}

const lifeOf = (m: { machine: string; uuid: string | null; createdTime: number | null }) =>
  `${m.machine} ${m.uuid ?? ""} ${m.createdTime ?? ""}`;

export class FactoryMetrics {
  readonly registry = new Registry();
  private readonly machines: Gauge;
  private readonly created: Counter;
  private readonly ended: Counter;
  private readonly poll: Histogram;
  private readonly peers: Gauge;
  private readonly reloadOk: Gauge;
  private readonly reloadTime: Gauge;
  private readonly hypervisorUp: Gauge;
  private readonly problems: Gauge;
  /** Lives seen so far and those seen shut down; undefined before the first view. */
  private lives: Set<string> | undefined;
  private endedLives = new Set<string>();

  constructor(responder: ResponderCounters) {
    const registers = [this.registry];
    const counter = (name: string, help: string, labelNames: string[]) =>
      new Counter({ name, help, labelNames, registers });
    const gauge = (name: string, help: string, labelNames: string[] = []) =>
      new Gauge({ name, help, labelNames, registers });
    this.machines = gauge("vac_machines", "Machines of this factory by Vac state and machinetype", [
      "state",
      "machinetype",
    ]);
    this.created = counter(
      "vac_machines_created_total",
      "Machines created since vacd started, by machinetype",
      ["machinetype"],
    );
    this.ended = counter(
      "vac_machines_ended_total",
      "Machines ended since vacd started, by machinetype and outcome code (shutdown_message; none when it left none)",
      ["machinetype", "code"],
    );
    this.poll = new Histogram({
      name: "vac_census_poll_seconds",
      help: "Time each background census poll of the space took (at most its 3 s wait)",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30],
      registers,
    });
    this.peers = gauge(
      "vac_peers",
      "Factories of the space in the last census poll, by whether they answered",
      ["answered"],
    );
    this.reloadOk = gauge(
      "vac_config_last_reload_successful",
      "1 when the last configuration read was applied, 0 when it was rejected",
    );
    this.reloadTime = gauge(
      "vac_config_last_reload_timestamp_seconds",
      "When the configuration was last read (Unix time)",
    );
    this.hypervisorUp = gauge(
      "vac_hypervisor_up",
      "1 when the last factory cycle read every hypervisor, 0 when one did not answer (nothing is started or destroyed then)",
    );
    this.problems = gauge(
      "vac_factory_problem",
      "1 for each problem that stops this factory starting machines, by what (hypervisor, state) and error code (docs/errors.md); none when all is well",
      ["what", "code"],
    );
    // Counters, as `_total` says to Prometheus (promtool refuses a `_total` gauge), read from
    // the responder's own counts at scrape time: those only grow, so each is set to its count.
    const counted = (name: string, help: string, labelNames: string[], collect: (c: Counter) => void) =>
      new Counter({
        name,
        help,
        labelNames,
        registers,
        collect(this: Counter) {
          this.reset();
          collect(this);
        },
      });
    counted(
      "vac_vacquery_datagrams_answered_total",
      "VacQuery queries the responder answered since vacd started",
      [],
      (c) => c.inc(responder.answeredCount),
    );
    counted(
      "vac_vacquery_datagrams_dropped_total",
      "Datagrams the responder dropped since vacd started, by reason",
      ["reason"],
      (c) => {
        for (const [reason, n] of responder.dropCounts()) c.inc({ reason }, n);
      },
    );
    counted(
      "vac_vacquery_datagrams_received_total",
      "Datagrams the responder read since vacd started (answered plus dropped, not those the kernel dropped at its full queues: queue_full)",
      [],
      (c) => {
        let n = responder.answeredCount;
        for (const [reason, d] of responder.dropCounts()) if (reason !== "queue_full") n += d;
        c.inc(n);
      },
    );
  }

  /** Each view the factory publishes. */
  observeView(view: ResponderView): void {
    const { hypervisorError, stateError, volumeGroupError } = view.status;
    this.hypervisorUp.set(hypervisorError ? 0 : 1);
    this.problems.reset();
    for (const [what, text] of [
      ["hypervisor", hypervisorError],
      ["state", stateError],
      ["volume_group", volumeGroupError],
    ] as const)
      if (text) this.problems.set({ what, code: /^(VAC_ERR_[A-Z_]+):/.exec(text)?.[1] ?? "unknown" }, 1);
    this.machines.reset();
    for (const m of view.machines) {
      if (m.machinetype) this.machines.inc({ state: m.state, machinetype: m.machinetype });
    }
    const now = new Set(view.machines.filter((m) => m.machinetype).map(lifeOf));
    const first = this.lives === undefined;
    const endedNow = new Set<string>();
    for (const m of view.machines) {
      if (!m.machinetype) continue;
      const life = lifeOf(m);
      if (!first && !this.lives?.has(life)) this.created.inc({ machinetype: m.machinetype });
      if (m.state !== "Shut down") continue;
      endedNow.add(life);
      // Machines already ended when vacd started were counted by the vacd that saw them end.
      if (!first && !this.endedLives.has(life))
        this.ended.inc({
          machinetype: m.machinetype,
          code: String(shutdownCode(m.shutdownMessage) ?? "none"),
        });
    }
    this.lives = now;
    this.endedLives = endedNow;
  }

  observePoll(seconds: number, answered: number, silent: number): void {
    this.poll.observe(seconds);
    this.peers.set({ answered: "yes" }, answered);
    this.peers.set({ answered: "no" }, silent);
  }

  observeConfigRead(applied: boolean, when: number): void {
    this.reloadOk.set(applied ? 1 : 0);
    this.reloadTime.set(when);
  }
}
