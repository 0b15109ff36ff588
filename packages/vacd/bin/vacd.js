#!/usr/bin/env -S node --max-semi-space-size=1
// The installed entry point; the daemon itself is compiled to dist/ by `npm run build`.
//
// A small young generation (1 MB semi-spaces): node gives every datagram received its own
// buffer outside the JS heap, and with the default 16 MB semi-spaces a flood piles up hundreds
// of MB of them between scavenges, until V8 runs a full collection whose pause lets the socket's
// queue overflow and the space's own queries be lost with the flood. Scavenged often, they are
// freed as they come (bench/flood.ts: 99-100% of a factory's queries answered during a flood of
// 140,000 datagrams a second, against 90-96% without). `env -S` is coreutils 8.30 (EL8).
import { main } from "../dist/src/main.js";

await main(process.argv.slice(2));
