#!/usr/bin/env node
// The installed entry point; the daemon itself is compiled to dist/ by `npm run build`.
import { main } from "../dist/src/main.js";

await main(process.argv.slice(2));
