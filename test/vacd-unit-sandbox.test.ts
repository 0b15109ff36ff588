/**
 * The container machine models under vacd's systemd unit, where systemd cannot run (PID 1 is not
 * systemd here, and `systemd-run --user` has no bus): the unit's own sandboxing lines, read from
 * systemd/vacd.service and the drop-in systemd/vacd.service.d/containers.conf, recreated with the
 * kernel's tools (test/support/unit-sandbox.ts says how, directive by directive, and which it
 * cannot imitate), and a real vacd run inside with a docker, a podman and a singularity (stand-in)
 * machinetype:
 *
 * - vacd.service alone: docker runs (dockerd, outside the sandbox, makes the container); podman
 *   fails (runc cannot make the container's cgroup: ProtectControlGroups=yes made cgroupfs
 *   read-only), and so does singularity (vacd cannot make the machine's cgroup, for the same reason);
 * - with containers.conf but its NoNewPrivileges=no taken out: singularity's setuid starter
 *   refuses under no_new_privs (the stand-in imitates that refusal);
 * - with containers.conf: a machine of each model runs and ends with its outcome, 300.
 *
 * And the mounts vacd makes for containers' scratch volumes (storage/scratch-volume.ts): in the
 * unit's mount namespace, one made through `nsenter --mount=/proc/1/ns/mnt` is what dockerd sees,
 * one made in vacd's own namespace is not.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, type TestContext, test } from "node:test";
import { promisify } from "node:util";
import { slotName } from "@vac/core";
import { requireOrSkip, writeSingularityStandIn } from "@vac/testkit";
import { inHostNamespace } from "@vac/vacd";
import { cleanUp, type Engine, engineRun, findEngine, importBusybox } from "./support/container-engine.js";
import {
  CONTRACT_PAYLOAD,
  makeSingularityUser,
  removeVacCgroupParents,
} from "./support/hypervisor-models.js";
import { Space, waitFor } from "./support/space-harness.js";
import {
  CONTAINERS_DROP_IN,
  effectiveService,
  type SandboxPlan,
  sandboxArgv,
  sandboxPlan,
  serviceLines,
} from "./support/unit-sandbox.js";

const run = promisify(execFile);

/** Mounts argv[1] (an ext4 image) at argv[2], prints its marker, holds it until stdin closes. */
const HOLD_MOUNT = `
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
const [image, mnt] = process.argv.slice(1);
execFileSync("mount", ["-o", "loop", image, mnt]);
process.stdout.write(readFileSync(mnt + "/marker", "utf8"));
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
`;

const repo = new URL("../..", import.meta.url).pathname;

interface Ready {
  readonly parent: string;
  readonly docker: Engine;
  readonly podman: Engine;
  readonly image: string;
  readonly standIn: string;
  readonly user: { name: string; remove(): Promise<void> };
}

/** What happened to a machinetype's first machine: it ran (and ended with `outcome`), or not. */
interface Result {
  readonly ran: boolean;
  readonly detail: string;
}

async function events(space: Space): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(space.root(0), "vacd.log"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Waits for the first machine of `mt`: a failed start, or its first start, then its end. */
async function firstMachine(space: Space, mt: string): Promise<Result> {
  return waitFor(
    `a machine of ${mt} to run or fail`,
    async () => {
      const failed = (await events(space)).find(
        (e) => e.event === "machine_start_failed" && e.machinetype === mt,
      );
      if (failed) return { ran: false, detail: String(failed.err) };
      for (const m of await space.machinesOnDisk()) {
        if (m.machinetype !== mt) continue;
        if (await readFile(join(m.dir, "joboutputs/starts"), "utf8").catch(() => "")) {
          await writeFile(join(m.dir, "joboutputs/stop"), "");
          const ended = await waitFor(
            `${mt}'s machine to end`,
            async () =>
              (await space.machinesOnDisk()).find((x) => x.dir === m.dir && x.finishedAt !== undefined),
            60_000,
          );
          return { ran: true, detail: ended.shutdownMessage ?? "no shutdown_message" };
        }
        if (m.finishedAt !== undefined) {
          const console = await readFile(join(m.dir, "console.log"), "utf8").catch(() => "");
          return { ran: false, detail: `ended at once; console: ${console.trim().slice(-300)}` };
        }
      }
      return undefined;
    },
    90_000,
    500,
  );
}

/** vacd in the plan's sandbox, three times: a docker, a singularity and a podman factory. */
async function runUnderPlan(r: Ready, plan: SandboxPlan, first: number): Promise<Map<string, Result>> {
  const launcher = () => sandboxArgv(plan, [], join(r.parent, "checkout"));
  const common = { factories: 1, processorsPerFactory: 1, parentDir: r.parent, launcher, cycleSeconds: 1 };
  const box = (name: string, model: string, extra: string[]) => ({
    name,
    share: 1,
    payload: CONTRACT_PAYLOAD,
    model,
    backoffSeconds: 600,
    extraLines: extra,
  });
  // A factory for each: a failed start makes its factory back off from every start (a vacd
  // with docker and singularity together started neither once the other failed first).
  const a = await Space.create({
    ...common,
    firstAddress: first,
    extraSettings: [`docker_command = ${r.docker.command}`, "mb_per_processor = 100"],
    machinetypes: [box("dockerbox", "docker", [`root_image = docker://${r.image}`])],
  });
  const c = await Space.create({
    ...common,
    firstAddress: first + 1,
    extraSettings: [
      `singularity_command = ${r.standIn}`,
      `singularity_user = ${r.user.name}`,
      "mb_per_processor = 100",
    ],
    machinetypes: [box("scbox", "singularity", ["root_image = /image.sif"])],
  });
  const b = await Space.create({
    ...common,
    firstAddress: first + 2,
    extraSettings: [`docker_command = ${r.podman.command}`, "mb_per_processor = 100"],
    machinetypes: [box("podbox", "docker", [`root_image = docker://${r.image}`])],
  });
  // root_image = /image.sif, under the factory's root: the stand-in opens no image.
  await writeFile(join(c.root(0), "image.sif"), "");
  // singularity_user reaches its machine's directories, as under /var/lib/vac.
  await run("chmod", ["-R", "a+rX", c.dir.path]);
  try {
    await a.startFactory(0);
    await c.startFactory(0);
    await b.startFactory(0, r.podman.env);
    const [docker, sc, podman] = await Promise.all([
      firstMachine(a, "dockerbox"),
      firstMachine(c, "scbox"),
      firstMachine(b, "podbox"),
    ]);
    return new Map([
      ["docker", docker],
      ["singularity (stand-in)", sc],
      ["podman", podman],
    ]);
  } finally {
    await a.stop();
    await b.stop();
    await c.stop();
    const slots = (s: Space) => [0, 1, 2].map((i) => slotName(s.names[0] ?? "", i));
    await cleanUp(r.docker, slots(a), "none");
    await cleanUp(r.podman, slots(b), "none");
    await removeSingularityCgroups();
  }
}

/** The machines' cgroups a killed vacd left (vac/singularity-*), then vac/ itself. */
async function removeSingularityCgroups(): Promise<void> {
  for (const c of ["cpu", "memory", "cpuacct", "unified"]) {
    const dir = `/sys/fs/cgroup/${c}/vac`;
    for (const n of await readdir(dir).catch(() => [] as string[]))
      if (n.startsWith("singularity-")) await run("rmdir", [join(dir, n)]).catch(() => undefined);
  }
  await removeVacCgroupParents();
}

function report(label: string, plan: SandboxPlan, results: Map<string, Result>): void {
  console.log(`# ${label}`);
  for (const l of plan.imitated) console.log(`#   imitated: ${l}`);
  for (const l of plan.notImitated) console.log(`#   NOT IMITATED: ${l}`);
  for (const [model, r] of results)
    console.log(`#   ${model}: ${r.ran ? "ran, ended" : "FAILED"}: ${r.detail}`);
}

/** The engines, the image, the stand-in and singularity_user; or what is missing. */
async function setUp(): Promise<Ready | string> {
  if (process.getuid?.() !== 0) return "root (mount namespaces, cgroups, users)";
  for (const tool of ["unshare", "setpriv", "nsenter"])
    if (!(await run("which", [tool]).catch(() => undefined))) return `${tool} (util-linux)`;
  // Not under /tmp: PrivateTmp=yes gives vacd a /tmp of its own.
  const parent = await mkdtemp("/var/lib/vac-unit-sandbox-");
  await chmod(parent, 0o755);
  const docker = await findEngine("docker", parent);
  const podman = await findEngine("podman", parent);
  const user = typeof docker === "string" || typeof podman === "string" ? "" : await makeSingularityUser();
  if (typeof docker === "string" || typeof podman === "string" || typeof user === "string") {
    await rm(parent, { recursive: true, force: true });
    return [docker, podman, user].find((x) => typeof x === "string" && x !== "") as string;
  }
  const image = `localhost/vac-unit-sandbox-busybox:${process.pid}`;
  await importBusybox(docker, parent, image);
  await importBusybox(podman, parent, image);
  const standIn = await writeSingularityStandIn(join(parent, "bin"), "apptainer");
  return { parent, docker, podman, image, standIn, user };
}

describe("vacd's machine models under its systemd unit's sandboxing", { concurrency: false }, () => {
  let ready: Ready | string = "not set up";
  const dropIn = async () => serviceLines(await readFile(CONTAINERS_DROP_IN, "utf8"));
  before(async () => {
    ready = await setUp();
  });
  after(async () => {
    if (typeof ready === "string") return;
    await cleanUp(ready.docker, [], ready.image);
    await cleanUp(ready.podman, [], ready.image);
    await ready.user.remove();
    if (process.env.VAC_KEEP_TEST_DIRS !== "1") await rm(ready.parent, { recursive: true, force: true });
  });
  const ok = (t: TestContext) => requireOrSkip(t, typeof ready !== "string", String(ready));

  test("every sandboxing line of the unit and the drop-in is imitated or named as not imitated", async () => {
    const plain = sandboxPlan(await effectiveService([]));
    const lifted = sandboxPlan(await effectiveService([await dropIn()]));
    for (const [label, p] of [
      ["vacd.service", plain],
      ["vacd.service + containers.conf", lifted],
    ] as const) {
      console.log(
        `# ${label}: unshare --mount --propagation slave, then ${p.mounts.join(" ")}; setpriv ${p.setpriv.join(" ")}`,
      );
      for (const l of p.notImitated) console.log(`#   NOT IMITATED (seccomp or unneeded): ${l}`);
    }
    assert.ok(plain.mounts.includes("ro:/sys/fs/cgroup") && plain.mounts.includes("ro:/proc/sys"));
    assert.ok(plain.setpriv.includes("--no-new-privs"));
    // Each line of the drop-in lifts what it says it lifts.
    assert.ok(!lifted.mounts.includes("ro:/sys/fs/cgroup") && !lifted.mounts.includes("ro:/proc/sys"));
    assert.ok(!lifted.setpriv.includes("--no-new-privs"));
    assert.deepEqual((await dropIn()).map(([k]) => k).sort(), [
      "NoNewPrivileges",
      "ProtectControlGroups",
      "ProtectKernelTunables",
    ]);
  });

  test("vacd.service alone: docker runs; podman and singularity cannot make their cgroups", async (t) => {
    if (!ok(t)) return;
    const plan = sandboxPlan(await effectiveService([]));
    const results = await runUnderPlan(ready as Ready, plan, 236);
    report("vacd.service alone", plan, results);
    assert.deepEqual(results.get("docker"), { ran: true, detail: "300 Nothing to do" });
    const podman = results.get("podman");
    assert.equal(podman?.ran, false);
    assert.match(podman?.detail ?? "", /\/sys\/fs\/cgroup\/\S+: read-only file system/);
    const sc = results.get("singularity (stand-in)");
    assert.equal(sc?.ran, false);
    // Node's recursive mkdir reports a read-only cgroupfs as ENOENT for the missing vac/ parent.
    assert.match(sc?.detail ?? "", /the machine's cgroup or record: .*mkdir '\/sys\/fs\/cgroup\//);
  });

  test("containers.conf without NoNewPrivileges=no: singularity's setuid starter refuses", async (t) => {
    if (!ok(t)) return;
    const plan = sandboxPlan(
      await effectiveService([(await dropIn()).filter(([k]) => k !== "NoNewPrivileges")]),
    );
    const results = await runUnderPlan(ready as Ready, plan, 239);
    report("vacd.service + containers.conf less its NoNewPrivileges=no", plan, results);
    assert.deepEqual(results.get("docker"), { ran: true, detail: "300 Nothing to do" });
    assert.deepEqual(results.get("podman"), { ran: true, detail: "300 Nothing to do" });
    const sc = results.get("singularity (stand-in)");
    assert.equal(sc?.ran, false);
    assert.match(sc?.detail ?? "", /setuid starter cannot gain privileges under no_new_privs/);
  });

  test("vacd.service with containers.conf: a docker, a podman and a singularity machine run and end with 300", async (t) => {
    if (!ok(t)) return;
    const plan = sandboxPlan(await effectiveService([await dropIn()]));
    const results = await runUnderPlan(ready as Ready, plan, 242);
    report("vacd.service + containers.conf", plan, results);
    for (const model of ["docker", "podman", "singularity (stand-in)"])
      assert.deepEqual(results.get(model), { ran: true, detail: "300 Nothing to do" }, model);
  });

  test("a scratch mount made in the unit's namespace: through nsenter dockerd sees it, without it not", async (t) => {
    if (!ok(t)) return;
    const r = ready as Ready;
    const plan = sandboxPlan(await effectiveService([await dropIn()]));
    // What prepareScratchVolume does on a logical volume, on an ext4 image on a loop device
    // (these machines have no device-mapper for lvcreate): mounted at a machine's mnt.
    const dir = join(r.parent, "scratch");
    const mnt = join(dir, "mnt");
    await mkdir(join(dir, "content"), { recursive: true });
    await mkdir(mnt);
    await writeFile(join(dir, "content/marker"), "on the volume\n");
    const image = join(dir, "volume.ext4");
    await run("mke2fs", ["-q", "-F", "-t", "ext4", "-d", join(dir, "content"), image, "8M"]);
    const inSandbox = (argv: string[]) => {
      const [command, ...args] = sandboxArgv(plan, argv, join(r.parent, "checkout"));
      return run(command as string, args, { cwd: repo, timeout: 60_000 });
    };
    const seenByDocker = () =>
      engineRun(r.docker, [
        "run",
        "--rm",
        "-v",
        `${mnt}:/scratch`,
        r.image,
        "/bin/cat",
        "/scratch/marker",
      ]).catch(() => "(nothing)");
    const hostMounts = async () => (await readFile("/proc/self/mountinfo", "utf8")).includes(` ${mnt} `);
    try {
      // PID 1's namespace is the host's for vacd; where PID 1's is unreadable (here PID 1 is not
      // systemd and hides its /proc entries, even from root), this test's own, which is the host's
      // and dockerd's, stands in for it, and the test says so.
      const init = await readlink("/proc/1/ns/mnt").catch(() => undefined);
      const target = init === undefined ? `/proc/${process.pid}/ns/mnt` : "/proc/1/ns/mnt";
      const host = (argv: string[]) =>
        inHostNamespace(argv, true).map((a) => (a === "--mount=/proc/1/ns/mnt" ? `--mount=${target}` : a));
      const own = await inSandbox([
        process.execPath,
        "--input-type=module",
        "-e",
        "import { ownMountNamespace } from '@vac/vacd'; console.log(await ownMountNamespace());",
      ]);
      // Under the unit vacd's namespace is its own; where PID 1's cannot be read vacd cannot tell,
      // and must not take it for the same (it fails closed): true either way.
      assert.equal(own.stdout.trim(), "true", "vacd mounts through nsenter under the unit");
      if (init === undefined)
        console.log(
          `# NOT AS UNDER SYSTEMD: /proc/1/ns/mnt is unreadable here, so vacd's ownMountNamespace() cannot tell and answers true (fail closed), and the test's nsenter enters ${target} (this test's namespace, the host's) instead`,
        );
      // Made in vacd's namespace (held there while the host and dockerd are asked): neither
      // sees it; it goes with the namespace.
      const argv = sandboxArgv(
        plan,
        [process.execPath, "--input-type=module", "-e", HOLD_MOUNT, image, mnt],
        join(r.parent, "checkout"),
      );
      const holder = spawn(argv[0] as string, argv.slice(1), { stdio: ["pipe", "pipe", "inherit"] });
      const exited = new Promise((resolve) => holder.once("exit", resolve));
      try {
        const said = await new Promise<string>((resolve) =>
          holder.stdout.once("data", (d) => resolve(String(d))),
        );
        assert.equal(said, "on the volume\n", "vacd's namespace sees its own mount");
        assert.equal(await hostMounts(), false);
        assert.equal(await seenByDocker(), "(nothing)");
      } finally {
        holder.stdin.end();
        await exited;
      }
      // Through nsenter into PID 1's, as scratch-volume.ts runs mount and umount there.
      await inSandbox(host(["mount", "-o", "loop", image, mnt]));
      assert.equal(await hostMounts(), true);
      // A `docker run` can fail for reasons of its own on a loaded host: asked up to three times.
      let seen = "(nothing)";
      for (let i = 0; i < 3 && seen !== "on the volume\n"; i++) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
        seen = await seenByDocker();
      }
      assert.equal(seen, "on the volume\n");
      await inSandbox(host(["umount", mnt]));
      assert.equal(await hostMounts(), false);
      console.log(
        "# scratch mount: in vacd's namespace unseen by dockerd; through nsenter seen, and unmounted",
      );
    } finally {
      await run("umount", [mnt]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
