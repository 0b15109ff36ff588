#!/usr/bin/env node
// The installed Nagios plugin, check-vacd(8); compiled to dist/ by `npm run build`.
import { checkVacdMain } from "../dist/src/commands/check-vacd.js";

process.exitCode = await checkVacdMain(process.argv.slice(2));
