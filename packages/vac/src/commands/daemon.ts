/**
 * vacd's modules (its logger, metrics, state store, hypervisor drivers and their libraries), for
 * the commands that act on the local factory: imported when such a command runs, never when
 * `vac` starts, so that `vac machines` does not pay for them (what it needs to poll comes from
 * `@vac/vacd/client`). bench/README.md, restart-answers-machines, has the figures.
 */
export const daemon = (): Promise<typeof import("@vac/vacd")> => import("@vac/vacd");
