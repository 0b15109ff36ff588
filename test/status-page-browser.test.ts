/**
 * The status page of a real space, drawn by a real browser: three vacd factories on loopback,
 * the third listed but never started, with a machinetype whose machines find no work (300).
 * /api/space agrees with `vac machines`, `vac machinetypes` and `vac factories`; headless
 * Chromium loads the page and its DOM shows each machinetype's bar and target line, the legend,
 * the code 300 and the silent factory marked; no request leaves for another host; writes are
 * refused; and a factory with status_token_file wants the token. The screenshot is kept in
 * test/artifacts/status-page.png (ignored by git).
 */
import assert from "node:assert/strict";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { requireOrSkip } from "@vac/testkit";
import { chromiumVersion, loadPage } from "./support/headless-chromium.js";
import { PAYLOAD_UNTIL_STOP, Space, waitFor } from "./support/space-harness.js";

const NO_WORK = '#!/bin/sh\necho "300 No more work" > "$JOBOUTPUTS/shutdown_message"\n';
const TOKEN = "s3cret-status-token-0123456789";
const ARTIFACTS = new URL("../../test/artifacts/", import.meta.url).pathname;

interface Doc {
  factories: { name: string; answered: boolean; running_machines: number | null }[];
  machinetypes: {
    name: string;
    running: number;
    target_share: number;
    actual_share: number;
    backoff_until: string | null;
    last_outcome: { code: number | null } | null;
  }[];
  machines: { name: string; factory: string; machinetype: string | null; state: string }[];
  timeline: { codes: string[] };
}

async function listeningPort(space: Space, i: number): Promise<number> {
  return waitFor(
    `factory ${i + 1} to log its metrics port`,
    async () => {
      const log = await readFile(join(space.root(i), "vacd.log"), "utf8");
      const m = /"event":"metrics_listening".*"port":(\d+)/.exec(log);
      return m ? Number(m[1]) : undefined;
    },
    20_000,
    100,
  );
}

test("a space's status page: the API agrees with vac, and Chromium draws shares, targets, outcomes and the silent factory", async (t) => {
  const version = await chromiumVersion();
  if (!requireOrSkip(t, version !== undefined, "chromium (apt package chromium)")) return;
  t.diagnostic(version ?? "");

  const space = await Space.create({
    factories: 3,
    processorsPerFactory: 2,
    firstAddress: 201,
    machinetypes: [
      { name: "alpha", share: 3, payload: PAYLOAD_UNTIL_STOP },
      { name: "beta", share: 1, payload: NO_WORK, backoffSeconds: 600, fizzleSeconds: 1 },
    ],
  });
  t.after(() => space.stop());
  // Factory 1 serves the page openly (on loopback); factory 2 wants a token.
  const [a1, a2] = space.addresses;
  const addTo = async (i: number, lines: string[]) => {
    const conf = join(space.root(i), "etc/vac.conf");
    const text = await readFile(conf, "utf8");
    await writeFile(conf, text.replace("[settings]\n", `[settings]\n${lines.join("\n")}\n`));
  };
  // status_token_file is resolved under the factory's root, as every path of its vac.conf.
  const tokenFile = join(space.root(1), "etc/status-token");
  await writeFile(tokenFile, `${TOKEN}\n`);
  await chmod(tokenFile, 0o600);
  await addTo(0, [`metrics_address = ${a1}:0`]);
  await addTo(1, [`metrics_address = ${a2}:0`, "status_token_file = /etc/status-token"]);
  // The third factory is listed everywhere but never started.
  await space.startFactory(0);
  await space.startFactory(1);
  const base = `http://${a1}:${await listeningPort(space, 0)}`;
  const guarded = `http://${a2}:${await listeningPort(space, 1)}`;
  const api = async (): Promise<Doc> => {
    const res = await fetch(`${base}/api/space`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    return (await res.json()) as Doc;
  };

  // beta finds no work (300) and backs off for 600 s; alpha then fills all four slots.
  const settled = await waitFor(
    "alpha in all four slots and beta's 300 in the API",
    async () => {
      const doc = await api();
      const alpha = doc.machinetypes.find((m) => m.name === "alpha");
      const beta = doc.machinetypes.find((m) => m.name === "beta");
      return alpha?.running === 4 && beta?.last_outcome?.code === 300 ? doc : undefined;
    },
    45_000,
    500,
  );
  const [f1, f2, f3] = space.names;

  await t.test("the API's figures agree with vac machines, machinetypes and factories", async () => {
    const machines = (await space.vacJson(0, ["machines"])) as {
      factory: string;
      machine: string;
      state: string;
      machinetype: string | null;
    }[];
    const fromVac = machines.map((m) => [m.factory, m.machine, m.state, m.machinetype]).sort();
    // The cache holds a poll for at most 5 s: the page's figures follow within that.
    const doc = await waitFor(
      "the API and vac machines to show the same machines",
      async () => {
        const d = await api();
        const fromApi = d.machines.map((m) => [m.factory, m.name, m.state, m.machinetype]).sort();
        return JSON.stringify(fromApi) === JSON.stringify(fromVac) ? d : undefined;
      },
      12_000,
      500,
    );
    assert.equal(doc.machines.filter((m) => m.state === "Running").length, 4);
    const types = (await space.vacJson(0, ["machinetypes"])) as {
      machinetype: string;
      running_machines: number;
    }[];
    for (const name of ["alpha", "beta"]) {
      const vacRunning = types
        .filter((r) => r.machinetype === name)
        .reduce((s, r) => s + r.running_machines, 0);
      assert.equal(doc.machinetypes.find((m) => m.name === name)?.running, vacRunning, name);
    }
    const alpha = doc.machinetypes.find((m) => m.name === "alpha");
    const beta = doc.machinetypes.find((m) => m.name === "beta");
    assert.equal(alpha?.target_share, 0.75);
    assert.equal(alpha?.actual_share, 1);
    assert.equal(beta?.target_share, 0.25);
    assert.equal(beta?.actual_share, 0);
    assert.ok(beta?.backoff_until && Date.parse(beta.backoff_until) > Date.now(), "beta is in backoff");
    assert.equal(alpha?.backoff_until, null);
    const factories = (await space.vacJson(0, ["factories"])) as {
      factory: string;
      running_machines: number;
    }[];
    assert.deepEqual(
      doc.factories.map((f) => [f.name, f.answered, f.running_machines]),
      [
        [f1, true, factories.find((f) => f.factory === f1)?.running_machines],
        [f2, true, factories.find((f) => f.factory === f2)?.running_machines],
        [f3, false, null],
      ],
    );
    assert.ok(doc.timeline.codes.includes("300"), `timeline codes ${doc.timeline.codes}`);
  });

  await t.test(
    "headless Chromium draws the bars, target lines, legends, the code 300 and the silent factory",
    async (st) => {
      await mkdir(ARTIFACTS, { recursive: true });
      const screenshot = join(ARTIFACTS, "status-page.png");
      const { dom, requests } = await loadPage(`${base}/`, a1 ?? "", { screenshot });
      st.diagnostic(`screenshot: ${screenshot}`);
      // Everything the page asked for was on this factory's listener: nothing went elsewhere.
      // (Chromium's own background requests, initiated by no page, fail at the resolver rules.)
      const byPage = requests.filter((r) => r.initiator === base).map((r) => r.url);
      assert.ok(byPage.includes(`${base}/api/space`), `the page fetched api/space: ${byPage.join(" ")}`);
      assert.deepEqual(
        byPage.filter((u) => !u.startsWith(`${base}/`)),
        [],
        "requests the page made for another host",
      );
      assert.ok(
        requests.some((r) => r.url === `${base}/` && r.initiator === null),
        "the navigation to the page is in the log",
      );

      assert.match(dom, /<body[^>]*data-loaded="/, "the page's script drew a document");
      for (const name of ["alpha", "beta"]) {
        const row = new RegExp(`<g class="share-row" data-machinetype="${name}">(.*?)</g>`, "s").exec(
          dom,
        )?.[1];
        assert.ok(row, `a share row for ${name}`);
        assert.match(row, /<rect class="share-bar"[^>]*data-actual="[\d.]+"/, `${name}'s bar`);
        assert.match(row, /<line class="target-line"[^>]*data-target="[\d.]+"/, `${name}'s target line`);
      }
      assert.match(dom, /data-machinetype="alpha"[^>]*>.*?data-actual="1"/s);
      assert.match(dom, /class="target-line"[^>]*data-target="0\.25"/);
      const shareLegend = /<div id="share-legend"[^>]*>(.*?)<\/div>/s.exec(dom)?.[1] ?? "";
      assert.match(shareLegend, /alpha \(actual share\)/);
      assert.match(shareLegend, /beta \(actual share\)/);
      assert.match(shareLegend, /target share/);
      // Code 300 in the timeline, as a column and in its legend.
      assert.match(dom, /<rect class="outcome"[^>]*data-code="300"/);
      const timelineLegend = /<div id="timeline-legend"[^>]*>(.*?)<\/div>/s.exec(dom)?.[1] ?? "";
      assert.match(timelineLegend, /data-code="300"[^>]*>.*?300 no more work/s);
      assert.match(timelineLegend, /started/);
      // The factory that never started is marked; the others are not.
      const row = (name: string) =>
        new RegExp(`<tr class="([^"]*)" data-factory="${name.replace(/\./g, "\\.")}"`).exec(dom);
      assert.equal(row(f3 ?? "")?.[1], "silent");
      assert.match(dom, new RegExp(`data-factory="${f3}" data-answered="false"`));
      assert.equal(row(f1 ?? ""), null, "f1 is not marked silent");
      assert.match(dom, /NOT ANSWERING/);
      assert.match(dom, /<div id="card-factories" class="card bad">.*?2 \/ 3/s);
      const png = await readFile(screenshot);
      assert.equal(png.subarray(1, 4).toString(), "PNG");
    },
  );

  await t.test("the page itself names no other host and allows none", async () => {
    const res = await fetch(`${base}/`);
    const html = await res.text();
    // The SVG namespace is a name, not a request; anything else would be one.
    const links = [...html.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+/gi)].map((m) => m[0]);
    assert.deepEqual(
      links.filter((l) => l !== "http://www.w3.org"),
      [],
    );
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    assert.doesNotMatch(csp, /https?:/);
  });

  await t.test("writes are refused with 405 and the methods allowed", async () => {
    for (const path of ["/", "/api/space", "/metrics"])
      for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
        const res = await fetch(`${base}${path}`, { method, body: method === "DELETE" ? null : "{}" });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.equal(res.headers.get("allow"), "GET, HEAD");
        await res.text();
      }
  });

  await t.test("with status_token_file, the page and the API want the bearer token", async () => {
    for (const path of ["/", "/api/space"]) {
      for (const auth of [
        undefined,
        "Bearer wrong-token-of-some-length",
        `Basic ${TOKEN}`,
        `Bearer ${TOKEN}x`,
      ]) {
        const res = await fetch(`${guarded}${path}`, auth ? { headers: { authorization: auth } } : {});
        assert.equal(res.status, 401, `${path} with ${auth ?? "no header"}`);
        assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
        await res.text();
      }
      const ok = await fetch(`${guarded}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(ok.status, 200, path);
      await ok.text();
      const post = await fetch(`${guarded}${path}`, { method: "POST", body: "x" });
      assert.equal(post.status, 401, `an unauthenticated POST to ${path}`);
      await post.text();
    }
    // /metrics is as it was: no token.
    const metrics = await fetch(`${guarded}/metrics`);
    assert.equal(metrics.status, 200);
    await metrics.text();
  });
  assert.ok(settled);
});
