/**
 * The status page (`GET /`): one hand-written HTML document with its style and script inline,
 * so that it needs nothing but this factory (no CDN, no fonts from elsewhere: it works on a site
 * network cut off from the world) and no build step. Its Content-Security-Policy allows exactly
 * that inline style and script (by their hashes) and requests to this origin only: even a
 * message from a peer that tried to smuggle markup in could load nothing from anywhere else.
 */
import { createHash } from "node:crypto";
import { STATUS_PAGE_SCRIPT } from "./status-page-script.js";
import { STATUS_PAGE_STYLE } from "./status-page-style.js";

const hash = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

export const STATUS_PAGE_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vac space</title>
<style>${STATUS_PAGE_STYLE}</style>
</head>
<body>
<header>
  <h1>Vac space <span id="space"></span></h1>
  <span class="sub" id="seen-by"></span>
  <span id="refresh">loading&hellip;</span>
</header>
<main>
  <div id="problem" role="alert"></div>
  <div class="cards" id="cards"></div>
  <section>
    <h2>Shares by machinetype: actual against target</h2>
    <div id="shares"></div>
  </section>
  <section>
    <h2>Starts and outcomes by shutdown code, last hours</h2>
    <div id="timeline"></div>
  </section>
  <section>
    <h2>Factories</h2>
    <div id="factories"></div>
  </section>
  <section>
    <h2>Machines</h2>
    <div id="machines"></div>
  </section>
</main>
<script>${STATUS_PAGE_SCRIPT}</script>
</body>
</html>
`;

export const STATUS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": [
    "default-src 'none'",
    `script-src ${hash(STATUS_PAGE_SCRIPT)}`,
    `style-src ${hash(STATUS_PAGE_STYLE)}`,
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; "),
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};
