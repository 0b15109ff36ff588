import assert from "node:assert/strict";
import { test } from "node:test";
import { makeTempRoot } from "@vac/testkit";
import { runVac } from "./support/vac-command.js";

test("vac console finds a machine by slot, short slot name, UUID or directory, newest first", async () => {
  const root = await makeTempRoot();
  try {
    const machines = "var/lib/vac/machines";
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n");
    await root.write(`${machines}/1700000000_lhcb_wn01-03.example.com/console.log`, "old machine\n");
    await root.write(
      `${machines}/1700000000_lhcb_wn01-03.example.com/uuid`,
      "0f8fad5b-d9cb-469f-a165-70867728950e\n",
    );
    await root.write(`${machines}/1700000500_atlas_wn01-03.example.com/console.log`, `${lines}\n`);
    await root.write(`${machines}/not-a-machine/console.log`, "ignored\n");

    const bySlot = await runVac(root.path, ["console", "wn01-03.example.com", "--lines", "3"]);
    assert.equal(bySlot.code, 0, bySlot.stderr);
    assert.equal(bySlot.stdout, "line 97\nline 98\nline 99\n");
    assert.match(bySlot.stderr, /1700000500_atlas_wn01-03\.example\.com\/console\.log/);
    assert.equal((await runVac(root.path, ["console", "wn01-03", "-n", "1"])).stdout, "line 99\n");
    const byUuid = await runVac(root.path, ["console", "0F8FAD5B-D9CB-469F-A165-70867728950E"]);
    assert.equal(byUuid.stdout, "old machine\n");
    const byDir = await runVac(root.path, ["console", "1700000000_lhcb_wn01-03.example.com"]);
    assert.equal(byDir.stdout, "old machine\n");

    const missing = await runVac(root.path, ["console", "wn01-07"]);
    assert.equal(missing.code, 65);
    assert.match(missing.stderr, /no machine named 'wn01-07'.*VAC_ERR_MACHINE_NOT_FOUND/s);
    assert.equal((await runVac(root.path, ["console", "wn01-03", "--lines", "0"])).code, 64);
    assert.equal(
      (await runVac(root.path, ["console", "../../etc"])).code,
      65,
      "only machine directories are read",
    );
  } finally {
    await root.remove();
  }
});

test("vac console shows a guest's escape sequences as text, not to the terminal", async () => {
  const root = await makeTempRoot();
  try {
    await root.write(
      "var/lib/vac/machines/1700000000_lhcb_wn01-03.example.com/console.log",
      "boot ok\r\n\u001b]52;c;ZWNobyBwd25lZA==\u0007 hidden\u001b[8m\tx\n",
    );
    const shown = await runVac(root.path, ["console", "wn01-03"]);
    assert.equal(shown.stdout, "boot ok\r\n\\x1b]52;c;ZWNobyBwd25lZA==\\x07 hidden\\x1b[8m\tx\n");
  } finally {
    await root.remove();
  }
});
