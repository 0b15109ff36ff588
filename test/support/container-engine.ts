/** The container engine helpers the tests share with bench/: packages/testkit/src/container-engine.ts. */
export {
  cleanUp,
  type Engine,
  engineRun,
  findEngine,
  type Inspected,
  importBusybox,
  inspect,
} from "@vac/testkit";
