/**
 * The encoded replies to each kind of query, kept for the second they are valid in: a reply
 * differs between queriers only by the echoed cookie, so the responder writes each reply's
 * JSON once a second (per view) and splices each query's cookie in, instead of encoding some
 * fifty fields per datagram. With a space key, the HMAC of each reply's head (everything before
 * the cookie, which every message ends with: core's schema.ts) is likewise computed once, and
 * each reply hashes only its cookie and `hmac` member. This is what lets it keep up with a flood.
 *
 * The cookie is written as a marker that no real value can follow: the cookie is the last
 * member, so the last occurrence of the marker is the cookie, whatever a machine wrote in the
 * fields before it. A query's cookie is 16-128 hex digits (codec.ts), safe to splice into a
 * JSON string as it is; every cookie Vac 3.1 and its `vac` command send is 64 lower-case hex
 * digits (docs/protocol.md, "What a cookie may be").
 */
import {
  encodeMessage,
  HeadSigner,
  HMAC_FIELD_BYTES,
  type Keyring,
  type Query,
  type Reply,
  type ResponderView,
} from "@vac/core";

const MARKER = "cookie-marker-0f1e2d3c";

export class Template {
  private signer: { keyring: Keyring; signer: HeadSigner } | undefined;

  constructor(
    /** The reply's bytes before the cookie. */
    readonly head: Buffer,
    /** And after it. */
    readonly tail: Buffer,
  ) {}

  /** The bytes `reply(cookie, keyring)` gives, known without building it. */
  length(cookie: string, keyring: Keyring | undefined): number {
    return this.head.length + cookie.length + this.tail.length + (keyring ? HMAC_FIELD_BYTES : 0);
  }

  /** The reply with `cookie` (hex digits) in place, signed by the keyring's first key when there is one. */
  reply(cookie: string, keyring: Keyring | undefined): Buffer {
    if (!keyring) {
      const out = Buffer.allocUnsafe(this.head.length + cookie.length + this.tail.length);
      this.head.copy(out, 0);
      out.write(cookie, this.head.length, "latin1");
      this.tail.copy(out, this.head.length + cookie.length);
      return out;
    }
    if (this.signer?.keyring !== keyring)
      this.signer = { keyring, signer: new HeadSigner(keyring, this.head) };
    return this.signer.signer.sign(cookie, this.tail);
  }
}

export class ReplyTemplates {
  private view: ResponderView | undefined;
  private second = -1;
  private readonly byType = new Map<Query["messageType"], Template[]>();

  /** The templates of `type` for `view` at second `second`, if they were built. */
  cached(view: ResponderView, type: Query["messageType"], second: number): readonly Template[] | undefined {
    return view === this.view && second === this.second ? this.byType.get(type) : undefined;
  }

  /** Builds and keeps the templates of `type` for `view` at second `second` from `build(cookie)`. */
  build(
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
    const t = build(MARKER).map((reply) => {
      const bytes = encodeMessage(reply);
      const at = bytes.lastIndexOf(MARKER);
      if (at < 0) throw new Error("reply template without its cookie");
      return new Template(bytes.subarray(0, at), bytes.subarray(at + MARKER.length));
    });
    this.byType.set(type, t);
    return t;
  }
}
