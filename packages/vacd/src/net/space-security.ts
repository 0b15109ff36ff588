/**
 * Turns the configuration into what the responder and the census need to be safe on a hostile
 * network: the keyring (refused when others can read it), the sources that get full answers,
 * this host's own addresses (answered when the key is unusable, so an admin can see why),
 * and the replay cache the census's polls share. Re-run at every configuration reload.
 */
import { ReplayCache, type VacConfig } from "@vac/core";
import type { Logger } from "../log.js";
import type { PollAuth } from "./poller.js";
import type { ResponderSecurity } from "./responder.js";
import { buildSourcePolicy, ownAddresses, spaceAddress } from "./source-policy.js";
import { loadSpaceKeyring } from "./space-key.js";

export interface SpaceSecurity {
  readonly responder: ResponderSecurity;
  /** Undefined without a key; with an unusable key the census must not poll. */
  readonly pollAuth: PollAuth | undefined;
  /**
   * The key file is set but cannot be used: nothing is started, and nothing answered but a
   * factory_query from this host, whose config_error says why (responder.ts).
   */
  readonly keyError: Error | undefined;
}

/**
 * `resolveNames` false (vacd's start) takes only the addresses written as addresses, so that a
 * slow resolver delays nothing; vacd loads it again with the names looked up, in the background.
 */
export async function loadSpaceSecurity(
  config: VacConfig,
  logger: Logger,
  { resolveNames = true }: { resolveNames?: boolean } = {},
): Promise<SpaceSecurity> {
  const s = config.settings;
  const { policy, problems, lanes } = await buildSourcePolicy(s.factories, s.adminNetworks, { resolveNames });
  for (const problem of problems) logger.warn({ event: "source_policy_problem", problem });
  let keyring: ResponderSecurity["keyring"];
  let keyError: Error | undefined;
  if (s.spaceKeyFile !== undefined) {
    try {
      keyring = await loadSpaceKeyring(s.spaceKeyFile);
      logger.info({ event: "space_key_loaded", file: s.spaceKeyFile, keys: keyring.keys.length });
    } catch (e) {
      keyring = "unusable";
      keyError = e instanceof Error ? e : new Error(String(e));
      logger.error({
        event: "space_key_unusable",
        code: (e as { code?: string }).code,
        err: keyError.message,
      });
    }
  }
  const skewSeconds = s.spaceKeyMaxSkewSeconds;
  const own = ownAddresses();
  return {
    responder: {
      keyring,
      skewSeconds,
      allowUnauthenticated: s.allowUnauthenticatedQueries,
      policy,
      lanes,
      laneAddress: await spaceAddress(s.factoryName, s.factories, own, { resolveNames }),
      ownAddresses: own,
    },
    pollAuth:
      keyring !== undefined && keyring !== "unusable"
        ? { keyring, skewSeconds, replay: new ReplayCache(skewSeconds) }
        : undefined,
    keyError,
  };
}
