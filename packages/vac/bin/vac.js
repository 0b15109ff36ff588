#!/usr/bin/env node
// The installed entry point; the program itself is compiled to dist/ by `npm run build`.
import { main } from "../dist/src/cli.js";

process.exitCode = await main(process.argv.slice(2));
