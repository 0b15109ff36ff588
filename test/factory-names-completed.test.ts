/**
 * `factories` written with short names (`f1 vac31`), completed with this factory's domain as
 * Vac's canonicalFQDN did (S864-879): the replies come under the full names, and a vacd that
 * made its cookies from the short ones dropped every one of them as `bad_cookie`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertVac31Counted, startBesideVac31 } from "./support/beside-vac31.js";

const VAC31 = { name: "vac31.e2e.test", address: "127.0.0.182" };

test("factories listed by short names are asked and counted under their full names, by vacd and by vac", async (t) => {
  const { space } = await startBesideVac31(t, { vac31: VAC31, firstAddress: 181, shortNames: true });
  // The census: a vacd that made its cookies from the short names would drop every reply.
  await assertVac31Counted(space);

  // `vac`: the whole space, and factories named short on its command line.
  const all = (await space.vacJson(0, ["factories"])) as Record<string, unknown>[];
  assert.deepEqual(all.map((f) => f.factory).sort(), [space.names[0], VAC31.name].sort());
  const one = (await space.vacJson(0, ["factories", "vac31"])) as Record<string, unknown>[];
  assert.deepEqual(
    one.map((f) => f.factory),
    [VAC31.name],
  );
});
