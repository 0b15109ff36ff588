import assert from "node:assert/strict";
import { test } from "node:test";
import {
  cgroupCpuFiles,
  cgroupCpuSeconds,
  containerCreateArgv,
  containerImage,
  containerState,
  parseContainerPs,
  splitShellWords,
  tmpBindProblem,
} from "../src/index.js";
import { loadTexts } from "./config-load-helpers.js";

test("docker create has Vac's options in Vac's order (S2286-2298), as an argument array", () => {
  const argv = containerCreateArgv({
    command: "/usr/bin/docker",
    name: "wn1-00.example.com",
    image: "example/img:1",
    containerCommand: ["/user_data", "a b", "$HOME;rm"],
    processors: 2,
    mbPerProcessor: 2048,
    machineDir: "/var/lib/vac/machines/1_box_wn1-00.example.com",
    tmpBinds: [{ source: "/m/mnt/_scratchabc", target: "/scratch" }],
    cvmfs: true,
    labels: { "vac.machine_uuid": "u-1" },
  });
  const d = "/var/lib/vac/machines/1_box_wn1-00.example.com";
  assert.deepEqual(argv, [
    "/usr/bin/docker",
    "create",
    "--cpu-shares",
    "2048",
    "--memory-reservation",
    String(2 * 2048 * 1048576),
    "-v",
    `${d}/joboutputs:/var/spool/joboutputs`,
    "-v",
    "/m/mnt/_scratchabc:/scratch",
    "-v",
    `${d}/user_data:/user_data:ro`,
    "-v",
    "/cvmfs:/cvmfs:ro",
    "-v",
    `${d}/machinefeatures:/etc/machinefeatures:ro`,
    "-v",
    `${d}/jobfeatures:/etc/jobfeatures:ro`,
    "--name",
    "wn1-00.example.com",
    "--hostname",
    "wn1-00.example.com",
    "--label",
    "vac.machine_uuid=u-1",
    "example/img:1",
    "/user_data",
    "a b",
    "$HOME;rm",
  ]);
  assert.ok(!argv.includes("--network") && !argv.includes("--user"), "Vac passed neither");
});

test("container_command splits as the shell split Vac's line, and nothing more", () => {
  const table: [string, string[] | RegExp][] = [
    ["/user_data", ["/user_data"]],
    ["  /bin/sh -c 'echo $HOME; ls *'  ", ["/bin/sh", "-c", "echo $HOME; ls *"]],
    ['a "b \\"c\\" \\$d \\x" e\\ f', ["a", 'b "c" $d \\x', "e f"]],
    ["a''b \"\"", ["ab", ""]],
    ["a\\\nb", ["ab"]],
    ["'open", /single quote/],
    ['"open', /double quote/],
    ["end\\", /backslash/],
  ];
  for (const [text, want] of table) {
    const r = splitShellWords(text);
    if (Array.isArray(want)) assert.deepEqual(r, { ok: true, words: want }, text);
    else assert.match(r.ok ? "" : r.why, want, text);
  }
});

test("root_image must be docker://IMAGE, and never an option to the engine", () => {
  assert.deepEqual(containerImage("docker://example.org:5000/a/b:1.0"), {
    image: "example.org:5000/a/b:1.0",
  });
  for (const bad of [undefined, "/x.img", "docker://", "docker://-v", "docker://a b", "docker://a\nb"])
    assert.ok("why" in containerImage(bad), String(bad));
});

test("tmp_binds are plain absolute paths apart from the machine's own binds", () => {
  assert.equal(tmpBindProblem("/scratch"), undefined);
  assert.equal(tmpBindProblem("/var/tmp/x-1"), undefined);
  for (const bad of [
    "scratch",
    "/",
    "/a//b",
    "/a/../b",
    "/a:b",
    "/a,b",
    "/etc/jobfeatures/x",
    "/user_data",
    "/cvmfs",
  ])
    assert.ok(tmpBindProblem(bad), bad);
});

test("docker ps lines, Docker's and Podman's statuses: Up is running (S1257)", () => {
  const id = "a".repeat(64);
  const ps = `wn1-00.example.com\t${id}\tUp 3 minutes\nbad line\nx,y\t${"b".repeat(64)}\tExited (0) 2 seconds ago\n`;
  assert.deepEqual(parseContainerPs(ps), [
    { name: "wn1-00.example.com", id, status: "Up 3 minutes" },
    { name: "x", id: "b".repeat(64), status: "Exited (0) 2 seconds ago" },
    { name: "y", id: "b".repeat(64), status: "Exited (0) 2 seconds ago" },
  ]);
  assert.equal(containerState("Up Less than a second ago"), "running");
  assert.equal(containerState("Up 3 minutes (Paused)"), "paused");
  assert.equal(containerState("Paused"), "paused");
  for (const s of ["Created", "Exited (0) 1 second ago", "Dead", "Removal In Progress", ""])
    assert.equal(containerState(s), "shutoff", s);
});

test("CPU seconds from the container's cgroup, on cgroup v1 (separate or joint controllers), hybrid and v2", () => {
  const v1 = "3:cpuset:/docker/abc\n2:cpuacct:/docker/abc\n1:cpu:/docker/abc\n";
  assert.deepEqual(cgroupCpuFiles(v1), [{ path: "cpuacct/docker/abc/cpuacct.usage", kind: "cpuacct.usage" }]);
  const joint = "4:cpu,cpuacct:/system.slice/docker-abc.scope\n0::/system.slice/docker-abc.scope\n";
  assert.deepEqual(cgroupCpuFiles(joint), [
    { path: "cpu,cpuacct/system.slice/docker-abc.scope/cpuacct.usage", kind: "cpuacct.usage" },
    { path: "cpuacct/system.slice/docker-abc.scope/cpuacct.usage", kind: "cpuacct.usage" },
    { path: "system.slice/docker-abc.scope/cpu.stat", kind: "cpu.stat" },
    { path: "unified/system.slice/docker-abc.scope/cpu.stat", kind: "cpu.stat" },
  ]);
  assert.deepEqual(cgroupCpuFiles("0::/system.slice/docker-abc.scope\n")[0], {
    path: "system.slice/docker-abc.scope/cpu.stat",
    kind: "cpu.stat",
  });
  assert.deepEqual(cgroupCpuFiles("0::/../../etc\n"), []);
  assert.equal(cgroupCpuSeconds("cpuacct.usage", "12500000000\n"), 12);
  assert.equal(cgroupCpuSeconds("cpu.stat", "usage_usec 7300000\nuser_usec 1\n"), 7);
  assert.equal(cgroupCpuSeconds("cpu.stat", "nothing\n"), undefined);
  assert.equal(cgroupCpuSeconds("cpuacct.usage", "x"), undefined);
});

test("a docker machinetype loads with its container options; a wrong one disables it alone, with a warning", () => {
  const head = "[settings]\nvac_space = s.example.com\nfactories = .\ndocker_command = /usr/bin/podman\n";
  const r = loadTexts({
    "/r/etc/vac.conf": `${head}[machinetype box]\ntarget_share = 1\nmachine_model = docker\nroot_image = docker://img:2\ncontainer_command = /bin/sh -c 'exec /user_data'\ntmp_binds = /scratch /tmp/b /scratch\ncvmfs_repositories = lhcb.cern.ch\n[machinetype bad]\ntarget_share = 1\nmachine_model = docker\nroot_image = img.iso\ncontainer_command = 'x\ntmp_binds = relative\n`,
  });
  assert.ok(r.config, JSON.stringify(r.problems));
  assert.equal(r.config.settings.dockerCommand, "/usr/bin/podman");
  const [box, bad] = r.config.machinetypes;
  assert.equal(box?.disabled, undefined);
  assert.equal(box?.rootImage, "docker://img:2");
  assert.deepEqual(box?.containerCommand, ["/bin/sh", "-c", "exec /user_data"]);
  assert.deepEqual(box?.tmpBinds, ["/scratch", "/tmp/b"]);
  assert.deepEqual(box?.cvmfsRepositories, ["lhcb.cern.ch"]);
  assert.match(bad?.disabled ?? "", /root_image 'img.iso' is not docker:\/\/IMAGE\[:TAG\]/);
  assert.match(bad?.disabled ?? "", /container_command/);
  assert.match(bad?.disabled ?? "", /tmp_binds 'relative'/);
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.severity]),
    Array(3).fill(["VAC_ERR_CONFIG_BAD_VALUE", "warning"]),
  );
  const dflt = loadTexts({
    "/r/etc/vac.conf": `${head}[machinetype box]\ntarget_share = 1\nmachine_model = docker\nroot_image = docker://img\n`,
  });
  assert.deepEqual(dflt.config?.machinetypes[0]?.containerCommand, ["/user_data"], "S650-651");
});
