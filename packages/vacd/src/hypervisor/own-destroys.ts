/**
 * The domains this driver destroyed itself, so that the `Stopped Destroyed` event each one
 * sends is not taken for someone else's destroy of the slot's next machine.
 *
 * libvirt delivers lifecycle events to `virsh event` asynchronously: the event of a domain
 * vacd destroyed (a finished machine's cleanup, a deadline, a zombie) can be read after vacd
 * has started the next machine under the same name. Matching it to the destroy that caused it,
 * rather than ignoring every `lost` event for a while after each start, keeps a real outside
 * destroy of the new machine, however early, the factory's fault it is.
 */

/** How long a destroy waits for its event; past this the event was missed (a watch restart). */
export const OWN_DESTROY_EVENT_SECONDS = 60;

export class OwnDestroys {
  /** Per domain name: the times (s) of destroys whose event has not been read yet. */
  private readonly pending = new Map<string, number[]>();

  /** A `virsh destroy NAME` that ended a domain, at `now` (s). */
  destroyed(name: string, now: number): void {
    const times = this.live(name, now);
    times.push(now);
    this.pending.set(name, times);
  }

  /**
   * A stop event for NAME was read at `now`: whether it is the end of a domain this driver
   * destroyed (and so says nothing about the machine in the slot now). Each destroy accounts
   * for one stop event.
   */
  claim(name: string, now: number): boolean {
    const times = this.live(name, now);
    const claimed = times.shift() !== undefined;
    if (times.length > 0) this.pending.set(name, times);
    else this.pending.delete(name);
    return claimed;
  }

  private live(name: string, now: number): number[] {
    return (this.pending.get(name) ?? []).filter((t) => now - t < OWN_DESTROY_EVENT_SECONDS);
  }
}
