/**
 * The metadata and MJF servers (S2534-2672, D636-777) on real sockets: each machine sees and
 * writes only its own files, identified by its source address (here 127.0.0.x addresses mapped
 * to slots, standing in for the 169.254.169.N leases), and hostile requests (traversal, huge
 * bodies, slow headers, huge headers, another slot's address) get an error, never a crash, a
 * stall or a file outside the machine's joboutputs/.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { vacPaths } from "@vac/core";
import { makeTempRoot, type TempRoot } from "@vac/testkit";
import { MachineHttpServer } from "../src/http/machine-http-server.js";
import { machineLookup } from "../src/http/machine-lookup.js";
import { metadataHandler } from "../src/http/metadata-routes.js";
import { mjfHandler } from "../src/http/mjf-routes.js";
import { createLogger } from "../src/log.js";
import { StateStore } from "../src/state/state-store.js";

const NOW = Math.floor(Date.now() / 1000);
const SERVER = "127.0.0.60";
/** Test-only address map: 127.0.0.61 is slot 0, .62 slot 1, .63 slot 2 (no machine). */
const SLOT_OF: Record<string, number> = { "127.0.0.61": 0, "127.0.0.62": 1, "127.0.0.63": 2 };
const FIRST = "127.0.0.61";
const SECOND = "127.0.0.62";
const EMPTY = "127.0.0.63";
const STRANGER = "127.0.0.64";
const MAX_OUTPUT = 64 * 1024;

let root: TempRoot;
let store: StateStore;
let dirs: string[];
let metadata: MachineHttpServer;
let mjf: MachineHttpServer;
let metadataPort: number;
let mjfPort: number;

before(async () => {
  root = await makeTempRoot();
  store = new StateStore(vacPaths(root.path));
  await store.init();
  const siteKey = await root.write("root.pub", "ssh-rsa AAAASITE site@example\n");
  dirs = [];
  for (const [n, uuid] of [
    [0, "uuid-first"],
    [1, "uuid-second"],
  ] as const) {
    const dir = await store.createMachine({
      created: NOW,
      machinetype: n === 0 ? "alpha" : "beta",
      slot: `wn01-0${n}.example.com`,
      uuid,
      processors: 1,
      shutdownTime: NOW + 600,
      machinefeatures: { hs06: `${10 + n}\n`, shutdowntime: `${NOW + 600}\n` },
      jobfeatures: { wall_limit_secs: `${600 + n}\n` },
      userData: Buffer.from(`#!/bin/sh\necho user data of slot ${n}\n`),
    });
    dirs.push(dir);
  }
  const logger = createLogger({ level: "silent" });
  const lookup = machineLookup({
    store,
    factoryName: () => "wn01.example.com",
    totalMachines: () => 4,
    slotOf: (a) => SLOT_OF[a],
  });
  metadata = new MachineHttpServer({
    name: "metadata",
    lookup,
    logger,
    handler: metadataHandler({ factoryName: () => "wn01.example.com", rootPublicKeyFile: () => siteKey }),
  });
  mjf = new MachineHttpServer({
    name: "mjf",
    lookup,
    logger,
    handler: mjfHandler({ maxOutputBytes: () => MAX_OUTPUT }),
  });
  metadataPort = await metadata.start(SERVER, 0);
  mjfPort = await mjf.start(SERVER, 0);
});

after(async () => {
  await metadata.close();
  await mjf.close();
  await root.remove();
});

interface Answer {
  status: number;
  body: string;
  type: string | undefined;
}

function http(
  port: number,
  from: string,
  path: string,
  method = "GET",
  body?: string | Buffer,
  headers: Record<string, string | number> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: SERVER,
        port,
        path,
        method,
        localAddress: from,
        agent: false,
        headers: body === undefined ? headers : { "Content-Length": Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            type: res.headers["content-type"],
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** A raw exchange: what the server sends before it closes, and how long that took. */
function raw(
  port: number,
  from: string,
  send: (write: (s: string) => void, end: () => void) => void,
): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const began = Date.now();
    const socket = connect({ host: SERVER, port, localAddress: from });
    let text = "";
    socket.on("data", (c) => {
      text += c.toString();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => resolve({ text, ms: Date.now() - began }));
    socket.on("connect", () =>
      send(
        (s) => socket.writable && socket.write(s),
        () => socket.end(),
      ),
    );
    setTimeout(() => {
      socket.destroy();
      reject(new Error("the server kept the connection open for 20 s"));
    }, 20_000).unref();
  });
}

test("EC2 and OpenStack user-data: each machine gets its own, by its source address (S2584-2589)", async () => {
  for (const path of [
    "/latest/user-data",
    "/2009-04-04/user-data",
    "/openstack/latest/user-data",
    "//latest//user-data",
  ]) {
    const a = await http(metadataPort, FIRST, path);
    assert.equal(a.status, 200, path);
    assert.equal(a.body, "#!/bin/sh\necho user data of slot 0\n", path);
  }
  assert.equal(
    (await http(metadataPort, SECOND, "/latest/user-data")).body,
    "#!/bin/sh\necho user data of slot 1\n",
  );
});

test("meta-data.json carries the MJF URLs under meta, the UUID, the names and the keys, as Vac wrote them", async () => {
  const a = await http(metadataPort, SECOND, "/openstack/2012-08-10/meta-data.json");
  assert.equal(a.status, 200);
  const meta = JSON.parse(a.body) as Record<string, unknown>;
  assert.deepEqual(meta.meta, {
    machinefeatures: "http://169.254.169.253/machinefeatures",
    jobfeatures: "http://169.254.169.253/jobfeatures",
    joboutputs: "http://169.254.169.253/joboutputs",
    machinetype: "beta",
  });
  assert.equal(meta.uuid, "uuid-second");
  assert.equal(meta.hostname, "wn01-01.example.com");
  assert.equal(meta.name, "wn01-01.example.com");
  assert.equal(meta.availability_zone, "wn01.example.com");
  assert.match((meta.public_keys as Record<string, string>)["0"] ?? "", /^ssh-rsa AAAASITE site@example\n$/);
});

test("the EC2 meta-data tree as EC2 lists it, values with no trailing newline; anything else is 404", async () => {
  const siteKey = "ssh-rsa AAAASITE site@example";
  const root =
    "ami-id\nami-launch-index\nhostname\ninstance-id\nlocal-hostname\nlocal-ipv4\nplacement/\npublic-keys/";
  for (const path of ["/latest/meta-data/", "/latest/meta-data", "/2009-04-04/meta-data/"])
    assert.equal((await http(metadataPort, FIRST, path)).body, root, path);
  // Vac listed `public-keys/0/openssh-key` as one leaf, where cloud-init finds no key.
  assert.equal((await http(metadataPort, SECOND, "/latest/meta-data/public-keys/")).body, "0=site");
  assert.equal((await http(metadataPort, SECOND, "/latest/meta-data/public-keys/0/")).body, "openssh-key");
  assert.equal(
    (await http(metadataPort, SECOND, "/latest/meta-data/public-keys/0/openssh-key")).body,
    siteKey,
  );
  // The machine's own key, after the site's, as the context ISO's root.pub has them.
  await mkdir(join(dirs[0] ?? "", "ssh"), { recursive: true });
  await writeFile(join(dirs[0] ?? "", "ssh/id_ed25519.pub"), "ssh-ed25519 AAAAOWN root@wn01-00\n");
  try {
    assert.equal(
      (await http(metadataPort, FIRST, "/latest/meta-data/public-keys")).body,
      "0=site\n1=machine",
    );
    assert.equal(
      (await http(metadataPort, FIRST, "/latest/meta-data/public-keys/1/openssh-key")).body,
      "ssh-ed25519 AAAAOWN root@wn01-00",
    );
  } finally {
    await rm(join(dirs[0] ?? "", "ssh"), { recursive: true });
  }
  // The uuid file ends with a newline; instance-id must not (cloud-init would make it a list).
  for (const [path, value] of [
    ["instance-id", "uuid-first"],
    ["ami-id", "uuid-first"],
    ["hostname", "wn01-00.example.com"],
    ["local-hostname", "wn01-00.example.com"],
    ["local-ipv4", "169.254.169.0"],
    ["placement/availability-zone", "wn01.example.com"],
    ["placement/", "availability-zone"],
  ])
    assert.equal((await http(metadataPort, FIRST, `/latest/meta-data/${path}`)).body, value, path);
  assert.equal((await http(metadataPort, FIRST, "/latest/")).body, "meta-data/\nuser-data");
  for (const path of [
    "/",
    "/latest/meta-data/no-such-key",
    "/latest/meta-data/instance-id/",
    "/latest/meta-data/public-keys/0/openssh-key/x",
    "/latest/meta-data/public-keys/7/openssh-key",
    "/latest/meta-data/placement/__proto__",
    "/latest/meta-data/constructor",
    "/latest/user-data/../../etc/passwd",
    "/latest/user_data",
  ])
    assert.equal((await http(metadataPort, FIRST, path)).status, 404, path);
  assert.equal((await http(metadataPort, FIRST, "/latest/user-data", "POST", "x")).status, 405);
});

test("OpenStack: /openstack lists the versions, and each has meta_data.json, user_data, vendor_data.json, network_data.json", async () => {
  const versions = await http(metadataPort, FIRST, "/openstack");
  assert.equal(versions.body, "2012-08-10\n2013-04-04\n2013-10-17\n2015-10-15\nlatest\n");
  assert.equal((await http(metadataPort, FIRST, "/openstack/")).body, versions.body);
  for (const version of ["latest", "2015-10-15", "2012-08-10"]) {
    const md = await http(metadataPort, SECOND, `/openstack/${version}/meta_data.json`);
    assert.equal(md.status, 200, version);
    assert.equal(md.type, "application/json");
    assert.deepEqual(JSON.parse(md.body), {
      uuid: "uuid-second",
      hostname: "wn01-01.example.com",
      name: "wn01-01.example.com",
      availability_zone: "wn01.example.com",
      launch_index: 0,
      public_keys: { site: "ssh-rsa AAAASITE site@example" },
      keys: [{ name: "site", type: "ssh", data: "ssh-rsa AAAASITE site@example" }],
      meta: {
        machinefeatures: "http://169.254.169.253/machinefeatures",
        jobfeatures: "http://169.254.169.253/jobfeatures",
        joboutputs: "http://169.254.169.253/joboutputs",
        machinetype: "beta",
      },
    });
    assert.equal(
      (await http(metadataPort, SECOND, `/openstack/${version}/user_data`)).body,
      "#!/bin/sh\necho user data of slot 1\n",
    );
    assert.equal((await http(metadataPort, SECOND, `/openstack/${version}/vendor_data.json`)).body, "{}");
  }
  assert.deepEqual(
    JSON.parse((await http(metadataPort, SECOND, "/openstack/latest/network_data.json")).body),
    {
      links: [{ id: "vac0", type: "phy", ethernet_mac_address: "56:4d:a9:fe:a9:01", mtu: null }],
      networks: [{ id: "network0", type: "ipv4_dhcp", link: "vac0", network_id: "vac" }],
      services: [],
    },
  );
  assert.equal(
    (await http(metadataPort, SECOND, "/openstack/latest/")).body,
    "meta_data.json\nuser_data\nvendor_data.json\nnetwork_data.json\n",
  );
  for (const path of [
    "/openstack/latest/vendor_data2.json",
    "/openstack/latest/password",
    "/openstack/x/meta_data.json",
  ])
    assert.equal((await http(metadataPort, SECOND, path)).status, 404, path);
});

test("an address that is no slot's, or a slot with no machine, gets nothing", async () => {
  assert.equal((await http(metadataPort, STRANGER, "/latest/user-data")).status, 404);
  assert.equal((await http(metadataPort, EMPTY, "/latest/user-data")).status, 404);
  assert.equal((await http(mjfPort, STRANGER, "/machinefeatures/hs06")).status, 404);
  assert.equal((await http(mjfPort, STRANGER, "/joboutputs/shutdown_message", "PUT", "300 x\n")).status, 403);
});

test("MJF listings are Vac's HTML lists and values are the files' contents (S2550-2570)", async () => {
  const list = await http(mjfPort, FIRST, "/machinefeatures/");
  assert.equal(list.status, 200);
  assert.equal(list.type, "text/html");
  assert.equal(
    list.body,
    '<html><body><ul><li><a href="hs06">hs06</a></li><li><a href="shutdowntime">shutdowntime</a></li></ul></body></html>',
  );
  assert.equal((await http(mjfPort, FIRST, "/jobfeatures")).status, 200);
  assert.equal((await http(mjfPort, FIRST, "/machinefeatures/hs06")).body, "10\n");
  assert.equal((await http(mjfPort, SECOND, "/machinefeatures/hs06")).body, "11\n");
  assert.equal((await http(mjfPort, SECOND, "/jobfeatures/wall_limit_secs")).body, "601\n");
});

test("a PUT to joboutputs lands in the machine's joboutputs/, where the 9p export has it", async () => {
  const a = await http(mjfPort, FIRST, "/joboutputs/shutdown_message", "PUT", "300 No more work\n");
  assert.equal(a.status, 201);
  assert.equal(
    await readFile(join(dirs[0] ?? "", "joboutputs/shutdown_message"), "utf8"),
    "300 No more work\n",
  );
  // Written again (a heartbeat file is rewritten): replaced whole.
  await http(mjfPort, FIRST, "/joboutputs/heartbeat", "PUT", "one\n");
  await http(mjfPort, FIRST, "/joboutputs/heartbeat", "PUT", "two\n");
  assert.equal(await readFile(join(dirs[0] ?? "", "joboutputs/heartbeat"), "utf8"), "two\n");
  assert.equal(
    existsSync(join(dirs[1] ?? "", "joboutputs/shutdown_message")),
    false,
    "not in the other machine's",
  );
  const leftovers = (await readdir(dirs[0] ?? "")).filter((n) => n.startsWith(".put-"));
  assert.deepEqual(leftovers, [], "no temporary files left");
});

test("traversal, subdirectories and odd names are refused and write nothing outside joboutputs/", async () => {
  const secret = await root.write("secret", "do not read\n");
  for (const path of [
    "/machinefeatures/../jobfeatures/wall_limit_secs",
    "/machinefeatures/..",
    "/machinefeatures/%2e%2e/%2e%2e/user_data",
    "/machinefeatures/sub/dir",
    `/machinefeatures/${"..%2f".repeat(8)}secret`,
    "/joboutputs/",
    "/user_data",
  ])
    assert.equal((await http(mjfPort, FIRST, path)).status, 404, path);
  for (const path of [
    "/joboutputs/../user_data",
    "/joboutputs/..",
    "/joboutputs/.",
    "/joboutputs/a/b",
    "/joboutputs/%2e%2e%2fuser_data",
    "/machinefeatures/hs06",
    "/joboutputs",
  ])
    assert.equal((await http(mjfPort, FIRST, path, "PUT", "pwned\n")).status, 403, path);
  assert.equal(
    await readFile(join(dirs[0] ?? "", "user_data"), "utf8"),
    "#!/bin/sh\necho user data of slot 0\n",
  );
  assert.equal(await readFile(join(dirs[0] ?? "", "machinefeatures/hs06"), "utf8"), "10\n");
  assert.equal(await readFile(secret, "utf8"), "do not read\n");
  // A symlink the guest made in joboutputs is replaced, never followed.
  const { symlink } = await import("node:fs/promises");
  await symlink(secret, join(dirs[0] ?? "", "joboutputs/linked"));
  assert.equal((await http(mjfPort, FIRST, "/joboutputs/linked", "PUT", "replaced\n")).status, 201);
  assert.equal(await readFile(secret, "utf8"), "do not read\n");
});

test("a second machine can neither read the first one's features nor write its outputs", async () => {
  await writeFile(join(dirs[0] ?? "", "jobfeatures/only_first"), "mine\n");
  assert.equal((await http(mjfPort, SECOND, "/jobfeatures/only_first")).status, 404);
  assert.equal((await http(mjfPort, SECOND, "/joboutputs/from_second", "PUT", "x\n")).status, 201);
  assert.equal(existsSync(join(dirs[0] ?? "", "joboutputs/from_second")), false);
  assert.ok(existsSync(join(dirs[1] ?? "", "joboutputs/from_second")));
});

test("bodies past the machine's output limit, without a length, or shorter than announced are refused", async () => {
  const big = Buffer.alloc(MAX_OUTPUT + 1, 0x61);
  assert.equal((await http(mjfPort, SECOND, "/joboutputs/big", "PUT", big)).status, 413);
  assert.equal(existsSync(join(dirs[1] ?? "", "joboutputs/big")), false);
  // Chunked: no Content-Length.
  const chunked = await new Promise<number>((resolve, reject) => {
    const req = request(
      {
        host: SERVER,
        port: mjfPort,
        path: "/joboutputs/c",
        method: "PUT",
        localAddress: SECOND,
        agent: false,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.write("abc");
    req.end();
  });
  assert.equal(chunked, 411);
  // Announces 1000 bytes, sends 10 and closes: nothing is written.
  const short = await raw(mjfPort, SECOND, (w, end) => {
    w("PUT /joboutputs/short HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789");
    setTimeout(end, 50);
  });
  assert.ok(short.ms < 5000, `closed after ${short.ms} ms`);
  assert.equal(existsSync(join(dirs[1] ?? "", "joboutputs/short")), false);
});

test("slow headers are cut off (slowloris) and huge headers refused, and the server still answers", async () => {
  const slow = await raw(mjfPort, FIRST, (w) => {
    w("GET /machinefeatures/hs06 HTTP/1.1\r\n");
    const timer = setInterval(() => w("X-Slow: a\r\n"), 500);
    setTimeout(() => clearInterval(timer), 15_000).unref();
    timer.unref();
  });
  assert.ok(slow.ms < 12_000, `closed after ${slow.ms} ms`);
  assert.doesNotMatch(slow.text, /^HTTP\/1\.1 200/);
  const huge = await raw(mjfPort, FIRST, (w) =>
    w(`GET /machinefeatures/hs06 HTTP/1.1\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`),
  );
  assert.match(huge.text, /^HTTP\/1\.1 431/);
  assert.equal((await http(mjfPort, FIRST, "/machinefeatures/hs06")).body, "10\n");
});

test("a client that half-closes after its request (HTTP/1.0, as nc does) still gets its answer", async () => {
  const got = await raw(mjfPort, FIRST, (w, end) => {
    w("GET /machinefeatures/hs06 HTTP/1.0\r\nHost: x\r\n\r\n");
    end();
  });
  assert.match(got.text, /^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\n10\n$/);
  const put = await raw(mjfPort, FIRST, (w, end) => {
    w("PUT /joboutputs/half HTTP/1.0\r\nHost: x\r\nContent-Length: 5\r\n\r\nhalf\n");
    end();
  });
  assert.match(put.text, /^HTTP\/1\.1 201 Created/);
  assert.equal(await readFile(join(dirs[0] ?? "", "joboutputs/half"), "utf8"), "half\n");
});

test("requests are counted by status for the log", async () => {
  mjf.counts.take();
  await http(mjfPort, FIRST, "/machinefeatures/hs06");
  await http(mjfPort, FIRST, "/nothing");
  assert.deepEqual(mjf.counts.take(), { "200": 1, "404": 1 });
});
