/**
 * scripts/libvirt-up.sh and libvirt-down.sh touch only what they started: run against fake
 * `virsh`, `pgrep` and daemons on PATH (the real libvirtd on a shared machine is not theirs to
 * stop), up must say so when it finds daemons already running and not record them, and down must
 * stop only the daemons up started and destroy only the test factories' domains.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { makeTempRoot, type TempRoot } from "@vac/testkit";

const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;

const FAKE_VIRSH = `#!/bin/sh
echo "virsh $*" >> "$FAKE_LOG"
case "$*" in
  *" list --name"*) printf '%s\\n' $FAKE_DOMAINS ;;
esac
exit 0
`;
/** pgrep -x NAME: "running" when NAME is in $FAKE_RUNNING. */
const FAKE_PGREP = `#!/bin/sh
for n in $FAKE_RUNNING; do [ "$n" = "$2" ] && { echo 4242; exit 0; }; done
exit 1
`;
/** A daemon: with -d -p FILE it forks itself, whose comm is the daemon's name, and writes FILE. */
const FAKE_DAEMON = `#!/bin/bash
if [ "$1" = "-d" ]; then
  echo "$(basename "$0") started" >> "$FAKE_LOG"
  "$0" run >/dev/null 2>&1 &
  echo $! > "$3"
  exit 0
fi
while :; do sleep 0.2; done
`;

async function fakes(): Promise<{ root: TempRoot; env: NodeJS.ProcessEnv; log: () => Promise<string> }> {
  const root = await makeTempRoot("vac-scripts-");
  const bin = join(root.path, "bin");
  for (const [name, text] of [
    ["virsh", FAKE_VIRSH],
    ["pgrep", FAKE_PGREP],
    ["libvirtd", FAKE_DAEMON],
    ["virtlogd", FAKE_DAEMON],
    ["id", "#!/bin/sh\nexit 0\n"],
  ]) {
    const path = await root.write(`bin/${name}`, text ?? "");
    await chmod(path, 0o755);
  }
  const logPath = join(root.path, "calls.log");
  await writeFile(logPath, "");
  const env = {
    PATH: `${bin}:${process.env.PATH}`,
    FAKE_LOG: logPath,
    FAKE_DOMAINS: "someones-vm lv1-00.vac-test.example prod.example.org lv2-03.vac-test.example",
    FAKE_RUNNING: "",
    VAC_LIBVIRT_STATE_DIR: join(root.path, "state"),
    VAC_QEMU_CONF: join(root.path, "qemu.conf"),
  };
  return { root, env, log: () => readFile(logPath, "utf8") };
}

const script = (name: string, env: NodeJS.ProcessEnv) =>
  run("bash", [join(repo, "scripts", name)], { env, timeout: 30_000 });

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("libvirt-up.sh uses daemons already running without claiming them, and libvirt-down.sh then stops nothing and destroys only test domains", async () => {
  const f = await fakes();
  try {
    const env = { ...f.env, FAKE_RUNNING: "libvirtd virtlogd" };
    const up = await script("libvirt-up.sh", env);
    assert.match(up.stderr, /libvirtd is already running \(pid 4242\), not started by this script/);
    assert.match(up.stderr, /virtlogd is already running/);
    assert.doesNotMatch(await f.log(), /started/, "no daemon was started");
    const down = await script("libvirt-down.sh", env);
    assert.match(down.stderr, /libvirtd was not started by libvirt-up.sh: left running/);
    const destroyed = (await f.log()).split("\n").filter((l) => l.includes(" destroy "));
    assert.deepEqual(destroyed, [
      "virsh -c qemu:///system destroy lv1-00.vac-test.example",
      "virsh -c qemu:///system destroy lv2-03.vac-test.example",
    ]);
  } finally {
    await f.root.remove();
  }
});

test("libvirt-down.sh stops exactly the daemons libvirt-up.sh started, by their process ids", async () => {
  const f = await fakes();
  const pids: number[] = [];
  try {
    await script("libvirt-up.sh", f.env);
    assert.match(await f.log(), /virtlogd started\nlibvirtd started/);
    for (const name of ["libvirtd", "virtlogd"]) {
      const pid = Number(await readFile(join(f.env.VAC_LIBVIRT_STATE_DIR ?? "", `${name}.pid`), "utf8"));
      pids.push(pid);
      assert.ok(alive(pid), `${name} runs`);
      assert.equal((await readFile(`/proc/${pid}/comm`, "utf8")).trim(), name);
    }
    // A second run finds its own daemons recorded and starts nothing more.
    await script("libvirt-up.sh", f.env);
    assert.equal((await f.log()).match(/started/g)?.length, 2);
    const down = await script("libvirt-down.sh", f.env);
    assert.match(down.stderr, /stopped libvirtd/);
    assert.match(down.stderr, /stopped virtlogd/);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} stopped`);
    assert.equal(existsSync(join(f.env.VAC_LIBVIRT_STATE_DIR ?? "", "started-libvirtd")), false);
  } finally {
    for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
    await f.root.remove();
  }
});
