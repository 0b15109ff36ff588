/** A raw UDP peer for net tests: sends exact bytes from a chosen 127.0.0.x and collects what comes back. */
import { createSocket, type Socket } from "node:dgram";

export class RawPeer {
  readonly received: Buffer[] = [];
  /** Where each of `received` came from. */
  readonly sources: { address: string; port: number }[] = [];
  private constructor(private readonly socket: Socket) {
    socket.on("message", (m, from) => {
      this.received.push(m);
      this.sources.push({ address: from.address, port: from.port });
    });
  }

  /** The port it is bound to. */
  get port(): number {
    return this.socket.address().port;
  }

  static async bind(address: string): Promise<RawPeer> {
    const s = createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, address, () => r()));
    return new RawPeer(s);
  }

  send(bytes: Buffer, port: number, host: string): Promise<void> {
    return new Promise((r) => this.socket.send(bytes, port, host, () => r()));
  }

  /** Waits until `n` datagrams have come, or `ms` passed. */
  async waitFor(n: number, ms = 1000): Promise<Buffer[]> {
    const until = Date.now() + ms;
    while (this.received.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    return this.received;
  }

  get bytesReceived(): number {
    return this.received.reduce((n, b) => n + b.length, 0);
  }

  close(): void {
    this.socket.close();
  }
}
