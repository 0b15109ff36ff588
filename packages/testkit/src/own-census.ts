/**
 * The census of a space of one factory, for a factory loop run without a network (tests and
 * benchmarks): what the loop published last, read back as a peer's poll would read it.
 */
import { type MachinetypeStatus, type ResponderView, repliesFor } from "@vac/core";

export class OwnCensus {
  /** Every view published, oldest first (at most `keep`, when given). */
  readonly views: ResponderView[] = [];

  constructor(
    private readonly now: () => number,
    private readonly keep?: number,
  ) {}

  /** The loop's `publish`. */
  publish(view: ResponderView): void {
    this.views.push(view);
    if (this.keep !== undefined && this.views.length > this.keep) this.views.shift();
  }

  /** The machinetype_status replies to a machinetypes_query of the last view, if any. */
  machinetypeReplies(): MachinetypeStatus[] {
    const view = this.views.at(-1);
    if (!view) return [];
    const query = {
      messageType: "machinetypes_query",
      vacqueryVersion: "1.0",
      daemonVersion: view.daemonVersion,
      space: view.space,
      cookie: "c",
      timeSent: this.now(),
    } as const;
    return repliesFor(view, query, this.now(), view.daemonVersion).filter(
      (x): x is MachinetypeStatus => x.messageType === "machinetype_status",
    );
  }
}
