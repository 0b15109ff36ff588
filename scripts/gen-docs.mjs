#!/usr/bin/env node
// Regenerates the documents that are rendered from code (tests fail when they are stale):
// docs/errors.md from the error catalog, and docs/vac.conf.5 from the definitions table.
import { writeFileSync } from "node:fs";
import * as core from "../packages/core/dist/src/index.js";

const docs = new URL("../docs/", import.meta.url);
writeFileSync(new URL("errors.md", docs), core.renderErrorsMarkdown());
if (typeof core.renderConfManPage === "function") {
  writeFileSync(new URL("vac.conf.5", docs), core.renderConfManPage());
}
console.log("docs regenerated");
