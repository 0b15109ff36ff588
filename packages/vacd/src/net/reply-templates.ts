/**
 * The encoded replies to each kind of query, kept for the second they are valid in: a reply
 * differs between queriers only by the echoed cookie, so the responder writes each reply's
 * JSON once a second (per view) and splices each query's cookie in, instead of encoding some
 * fifty fields per datagram. This is what lets it keep up with a flood.
 *
 * The cookie is written as a marker that no real value can precede: the envelope (message_type,
 * vacquery_version, daemon_version, space, cookie) comes before any field a machine writes, so
 * the first occurrence of the marker is the cookie. A query's cookie is 16-128 lower-case hex
 * digits (codec.ts), safe to splice into a JSON string as it is; every cookie Vac 3.1 and its
 * `vac` command send is 64 of them (docs/protocol.md, "What a cookie may be").
 */
import { encodeMessage, type Query, type Reply, type ResponderView } from "@vac/core";

const MARKER = "cookie-marker-0f1e2d3c";

export type Template = readonly [Buffer, Buffer];

export class ReplyTemplates {
  private view: ResponderView | undefined;
  private second = -1;
  private readonly byType = new Map<Query["messageType"], Template[]>();

  /** The templates of `type` for `view` at second `second`, built with `build(cookie)` when stale. */
  get(
    view: ResponderView,
    type: Query["messageType"],
    second: number,
    build: (cookie: string) => readonly Reply[],
  ): readonly Template[] {
    if (view !== this.view || second !== this.second) {
      this.view = view;
      this.second = second;
      this.byType.clear();
    }
    let t = this.byType.get(type);
    if (!t) {
      t = build(MARKER).map((reply) => {
        const bytes = encodeMessage(reply);
        const at = bytes.indexOf(MARKER);
        if (at < 0) throw new Error("reply template without its cookie");
        return [bytes.subarray(0, at), bytes.subarray(at + MARKER.length)] as const;
      });
      this.byType.set(type, t);
    }
    return t;
  }
}

/** A template's reply with `cookie` in place. */
export function withCookie(template: Template, cookie: string): Buffer {
  return Buffer.concat([template[0], Buffer.from(cookie, "latin1"), template[1]]);
}
