/**
 * A container machine whose vacd was killed during its start (no `started` record): what the
 * next vacd reads of the start from the recorded id and the engine (spawnRecord), so that a
 * container that started and ended in between is judged by what it left, not taken for a failed
 * start a minute later. The engine is a stand-in runner answering `inspect`.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { makeTempRoot } from "@vac/testkit";
import { type CommandResult, ContainerHypervisor, silentLogger } from "../src/index.js";

const ID = "a".repeat(64);

function engineSaying(startedAt: string | undefined): { driver: ContainerHypervisor; asked: string[][] } {
  const asked: string[][] = [];
  const answer = (argv: readonly string[]): CommandResult => {
    asked.push([...argv]);
    if (argv[1] === "inspect" && argv.at(-1) === ID && startedAt !== undefined)
      return {
        code: 0,
        stdout: `${JSON.stringify([{ Id: ID, State: { StartedAt: startedAt } }])}\n`,
        stderr: "",
      };
    return { code: 1, stdout: "", stderr: `Error: No such object: ${argv.at(-1)}` };
  };
  const runner = {
    description: "local",
    run: (argv: readonly string[]) => Promise.resolve(answer(argv)),
    stream: () => {
      throw new Error("not used");
    },
    close: async () => {},
  };
  const driver = new ContainerHypervisor({
    command: "/usr/bin/docker",
    runner: runner as never,
    timeoutMs: 1000,
    logger: silentLogger(),
    marker: "/nonexistent/containers-used",
  });
  return { driver, asked };
}

test("a container's start is read from its recorded id: none never, created pending, started at its StartedAt, gone unknown", async () => {
  const root = await makeTempRoot();
  try {
    await mkdir(join(root.path, "jobfeatures"));
    const name = "wn01-00.example.com";
    assert.equal(await engineSaying("2026-12-06T22:00:00.5Z").driver.spawnRecord(name, root.path), "never");
    await writeFile(join(root.path, "jobfeatures/job_id"), ID);
    assert.deepEqual(await engineSaying("2026-12-06T22:00:00.5Z").driver.spawnRecord(name, root.path), {
      at: Date.parse("2026-12-06T22:00:00.5Z") / 1000,
    });
    assert.equal(await engineSaying("0001-01-01T00:00:00Z").driver.spawnRecord(name, root.path), "pending");
    assert.equal(await engineSaying(undefined).driver.spawnRecord(name, root.path), undefined);
  } finally {
    await root.remove();
  }
});
