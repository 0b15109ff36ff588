/**
 * The encoded replies to each kind of query, kept for the second they are valid in: a reply
 * differs between queriers only by the echoed cookie, so the responder writes each reply's
 * JSON once a second (per view) and splices each query's cookie in, instead of encoding some
 * fifty fields per datagram. With a space key, the HMAC of each reply's head (everything before
 * the cookie, which every message ends with: core's schema.ts) is likewise computed once, and
 * each reply hashes only its cookie and `hmac` member. This is what lets it keep up with a flood.
 *
 * An unsigned reply is not even joined: the responder sends its head, the query's cookie and its
 * tail as the parts of one datagram (`parts`), which node:dgram hands to the kernel as they are,
 * so a machines_query's 32 replies cost 32 sends and no copy of their bytes.
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

  /**
   * The unsigned reply as the parts of one datagram, `cookie` (the query's cookie's bytes, made
   * once for all its replies) between head and tail: the bytes `reply(cookie, undefined)` gives.
   */
  parts(cookie: Buffer): readonly Buffer[] {
    return [this.head, cookie, this.tail];
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

/** Two values of `time_sent` of the same length that differ in every digit. */
const TIME_A = 1111111111;
const TIME_B = 2222222222;

/**
 * A reply's bytes around its `time_sent` and its cookie, for a view that does not change within
 * its cycle: each second's template is these with the second's digits between, no JSON written.
 */
export class Frame {
  constructor(
    /** The bytes before the digits of `time_sent`. */
    readonly beforeTime: Buffer,
    /** After them, up to the cookie. */
    readonly afterTime: Buffer,
    /** After the cookie. */
    readonly tail: Buffer,
  ) {}

  /** The template of second `second` (whole Unix seconds, as the replies are stamped). */
  at(second: number): Template {
    const digits = String(Math.max(0, Math.floor(second)));
    const head = Buffer.allocUnsafe(this.beforeTime.length + digits.length + this.afterTime.length);
    this.beforeTime.copy(head, 0);
    head.write(digits, this.beforeTime.length, "latin1");
    this.afterTime.copy(head, this.beforeTime.length + digits.length);
    return new Template(head, this.tail);
  }
}

/** The replies `build` gives cut into templates, their cookie the marker. */
function templatesOf(replies: readonly Reply[]): Template[] {
  return replies.map((reply) => {
    const bytes = encodeMessage(reply);
    const at = bytes.lastIndexOf(MARKER);
    if (at < 0) throw new Error("reply template without its cookie");
    return new Template(bytes.subarray(0, at), bytes.subarray(at + MARKER.length));
  });
}

/**
 * The frames of the replies `build(cookie, now)` gives: written with two times that differ in
 * every digit, the only bytes that differ are the digits of `time_sent`, wherever a machine's
 * own values (which may hold any digits) put it.
 */
function framesOf(build: (cookie: string, now: number) => readonly Reply[]): Frame[] {
  const a = templatesOf(build(MARKER, TIME_A));
  const b = templatesOf(build(MARKER, TIME_B));
  if (a.length !== b.length) throw new Error("replies that depend on the time");
  return a.map((ta, i) => {
    const x = ta.head;
    const y = (b[i] as Template).head;
    let first = 0;
    while (first < x.length && x[first] === y[first]) first++;
    const end = first + String(TIME_A).length;
    if (x.length !== y.length || !x.subarray(end).equals(y.subarray(end)) || first === x.length)
      throw new Error("replies that differ by more than time_sent");
    return new Frame(x.subarray(0, first), x.subarray(end), ta.tail);
  });
}

/**
 * The templates of each kind of reply for the view the factory loop published, each second's.
 * A view is published once a cycle and not changed, so its replies are written as JSON once
 * (frames) and each second's templates are spliced from them; replies whose values change within
 * a cycle (`factory_status` with the responder's own counts) are written once a second.
 */
export class ReplyTemplates {
  private view: ResponderView | undefined;
  private second = -1;
  private readonly byType = new Map<Query["messageType"], readonly Template[]>();
  private readonly frames = new Map<Query["messageType"], readonly Frame[]>();

  /**
   * The templates of `type` for `view` at second `second` (whole Unix seconds); `build(cookie,
   * now)` gives the replies. With `perSecond`, they are built from `build` each second, for
   * replies that hold more than the view.
   */
  get(
    view: ResponderView,
    type: Query["messageType"],
    second: number,
    build: (cookie: string, now: number) => readonly Reply[],
    perSecond = false,
  ): readonly Template[] {
    if (view !== this.view) {
      this.view = view;
      this.frames.clear();
      this.byType.clear();
    }
    if (second !== this.second) {
      this.second = second;
      this.byType.clear();
    }
    const kept = this.byType.get(type);
    if (kept) return kept;
    let made: readonly Template[];
    if (perSecond) made = templatesOf(build(MARKER, second));
    else {
      let frames = this.frames.get(type);
      if (!frames) {
        frames = framesOf(build);
        this.frames.set(type, frames);
      }
      made = frames.map((f) => f.at(second));
    }
    this.byType.set(type, made);
    return made;
  }
}
