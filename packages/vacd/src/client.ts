// What a VacQuery client needs (the `vac` command's polls): the configuration from disk, the
// space key, and the poller, without the daemon's modules (its logger, metrics, watchers,
// hypervisor drivers and their libraries), which the index loads and a short-lived command
// would pay for at every start (bench/README.md, restart-answers-machines).
export * from "./config/load-config-from-disk.js";
export * from "./net/poller.js";
export * from "./net/space-key.js";
