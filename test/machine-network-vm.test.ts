/**
 * The Vac 3 contract end to end on real libvirt: vacd defines its machine network (isolated by
 * `machine_network_forward = none`, so no test traffic leaves this machine; its own name and
 * bridge, under a host lock since 169.254.169.253/.254 are fixed), starts its metadata and MJF
 * servers, and boots the tiny guest on it. The guest gets its slot's lease by DHCP, fetches its
 * user-data from 169.254.169.254, reads MJF over HTTP at the URL its user_data substitution gave,
 * and PUTs `300 No more work`; vacd records the 300 and backs off. Afterwards the network is
 * removed by vacd's own code.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type HostLock, hostLock, requireOrSkip, type TinyGuest, tinyGuest } from "@vac/testkit";
import { LocalRunner, MachineNetwork } from "@vac/vacd";
import { LibvirtFactory, libvirtDomains } from "./support/libvirt-factory.js";

const tag = randomBytes(3).toString("hex");
const NETWORK = `vac-test-${tag}`;
const BRIDGE = `vt${tag}`;

/** Runs in the guest after its DHCP lease; writes nothing through 9p. */
const USER_DATA = `#!/bin/sh
# VAC3-USER-DATA-MARKER
body() { tr -d '\\r' | sed '1,/^$/d'; }
get() { printf 'GET %s HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n' "$2" "$1" | nc -w 5 "$1" 80 | body; }
put() { printf 'PUT %s HTTP/1.0\\r\\nHost: %s\\r\\nContent-Length: %s\\r\\n\\r\\n%s' "$2" "$1" "\${#3}" "$3" | nc -w 5 "$1" 80 | head -n 1; }
mf='##user_data_machinefeatures_url##'
jf='##user_data_jobfeatures_url##'
jo='##user_data_joboutputs_url##'
ud=$(get 169.254.169.254 /latest/user-data)
meta=$(get 169.254.169.254 /openstack/latest/meta-data.json)
st=$(get 169.254.169.253 "\${mf#http://169.254.169.253}/shutdowntime")
jl=$(get 169.254.169.253 "\${jf#http://169.254.169.253}/")
echo "guest: address $(ip -o -4 addr show dev eth0 | awk '{print $4}'), shutdowntime $st"
marker=no
case "$ud" in *VAC3-USER-DATA-MARKER*) marker=yes ;; esac
evidence="mf=$mf
jf=$jf
jo=$jo
address=$(ip -o -4 addr show dev eth0 | awk '{print $4}')
user_data_marker=$marker
meta=$meta
shutdowntime=$st
jobfeatures_listing=$(echo "$jl" | grep -c wall_limit_secs)
"
echo "guest: evidence $(put 169.254.169.253 "\${jo#http://169.254.169.253}/evidence" "$evidence")"
echo "guest: shutdown_message $(put 169.254.169.253 "\${jo#http://169.254.169.253}/shutdown_message" '300 No more work')"
`;

let guest: TinyGuest | undefined;
let available = false;
let lock: HostLock | undefined;

before(async () => {
  available = process.getuid?.() === 0 && (await libvirtDomains()) !== undefined;
  guest = available ? await tinyGuest() : undefined;
  if (available && guest) lock = await hostLock("vac-test-machine-network");
});

after(async () => {
  const runner = new LocalRunner();
  if (lock)
    await new MachineNetwork({ runner, uri: "qemu:///system", timeoutMs: 30_000 }).remove({ name: NETWORK });
  await runner.close();
  await lock?.release();
});

test("a Vac 3 image's path: DHCP lease, user-data from 169.254.169.254, MJF and a 300 over HTTP, backoff", async (t) => {
  if (!requireOrSkip(t, available && guest !== undefined, "libvirtd as root with the tiny test guest"))
    return;
  const g = guest as TinyGuest;
  const f = await LibvirtFactory.create({
    address: "127.0.0.45",
    cycleSeconds: 300,
    settings: [
      `machine_network_name = ${NETWORK}`,
      `machine_network_bridge = ${BRIDGE}`,
      "machine_network_forward = none",
    ],
    machinetype: ["network = vac"],
    userData: USER_DATA,
  });
  try {
    const lines = (await f.installGuest(g)).map((l) =>
      l.startsWith("kernel_cmdline") ? `${l} vac.net=dhcp` : l,
    );
    await f.appendConfig(lines);
    f.start();
    const finished = await f
      .waitFor("the machine's outcome to be recorded", 180_000, async () => {
        for (const dir of await f.machineDirs()) {
          const text = await readFile(join(dir, "finished"), "utf8").catch(() => undefined);
          if (text) return { dir, record: JSON.parse(text) as { message: string } };
        }
        return undefined;
      })
      .catch(async (e: Error) => {
        const [dir] = await f.machineDirs();
        const tail = dir ? await readFile(join(dir, "console.log"), "utf8").catch(() => "") : "";
        throw new Error(`${e.message}\nguest console ends:\n${tail.slice(-3000)}`);
      });
    const console = await readFile(join(finished.dir, "console.log"), "utf8").catch(() => "");
    const requests = (await f.events())
      .filter((e) => e.event === "http_request")
      .map((e) => `${e.server} ${e.method} ${e.path} ${e.status}`);
    assert.equal(
      finished.record.message,
      "300 No more work",
      `guest console:\n${console.slice(-3000)}\nrequests:\n${requests.join("\n")}`,
    );
    const evidence = await readFile(join(finished.dir, "joboutputs/evidence"), "utf8");
    const field = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(evidence)?.[1];
    assert.equal(field("mf"), "http://169.254.169.253/machinefeatures");
    assert.equal(field("jf"), "http://169.254.169.253/jobfeatures");
    assert.equal(field("jo"), "http://169.254.169.253/joboutputs");
    assert.equal(field("address"), "169.254.169.0/16", "slot 0's static lease");
    assert.equal(field("user_data_marker"), "yes", "user-data served by the metadata server");
    assert.equal(
      field("shutdowntime"),
      await readFile(join(finished.dir, "machinefeatures/shutdowntime"), "utf8"),
    );
    assert.equal(field("jobfeatures_listing"), "1");
    const meta = JSON.parse(field("meta") ?? "{}") as { hostname?: string; meta?: { machinetype?: string } };
    assert.equal(meta.hostname, f.slot);
    assert.equal(meta.meta?.machinetype, "tiny");
    assert.match(console, /udhcpc: eth0 has 169\.254\.169\.0\/16/);

    const events = await f.events();
    const served = events.filter((e) => e.event === "http_request" && e.machine === f.slot);
    assert.ok(
      served.some((e) => e.server === "metadata" && e.path === "/latest/user-data" && e.status === 200),
      "the metadata server logged the user-data request",
    );
    assert.ok(served.some((e) => e.server === "mjf" && e.method === "PUT" && e.status === 201));
    assert.ok(events.some((e) => e.event === "machine_http_listening" && e.address === "169.254.169.254"));

    await f.waitForBackoff("tiny", 20_000);
    assert.equal((await f.machineDirs()).length, 1, "no second machine during backoff");
    const domain = await readFile(join(finished.dir, "domain.xml"), "utf8");
    assert.match(domain, /<parameter name="IP" value="169.254.169.0"\/>/);
  } finally {
    await f.stop();
  }
});
