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
  /**
   * How vacd signs what it sends (census polls, VacMon messages): undefined without a key, and
   * `"unusable"` when the key file is set but cannot be used: then nothing is sent at all, since
   * a datagram the space expects signed must never go out unsigned.
   */
  readonly pollAuth: PollAuth | "unusable" | undefined;
  /**
   * The key file is set but cannot be used: nothing is started, and nothing answered but a
   * factory_query from this host, whose config_error says why (responder.ts).
   */
  readonly keyError: Error | undefined;
}

/** Who gets full answers and a lane of their own, and where the lanes bind (source-policy.ts). */
export type SpaceSources = Pick<ResponderSecurity, "policy" | "lanes" | "laneAddress" | "ownAddresses">;

/**
 * The space's sources. `resolveNames` false (vacd's start) takes only the addresses written as
 * addresses, so that a slow resolver delays nothing; vacd looks the names up next, in the
 * background, and applies them with `withSources`.
 */
export async function loadSpaceSources(
  config: VacConfig,
  logger: Logger,
  { resolveNames = true }: { resolveNames?: boolean } = {},
): Promise<SpaceSources> {
  const s = config.settings;
  const { policy, problems, lanes } = await buildSourcePolicy(s.factories, s.adminNetworks, { resolveNames });
  for (const problem of problems) logger.warn({ event: "source_policy_problem", problem });
  const own = ownAddresses();
  const laneAddress = await spaceAddress(s.factoryName, s.factories, own, { resolveNames });
  return { policy, lanes, laneAddress, ownAddresses: own };
}

/** `security` with other sources (the key and the census's replay cache kept). */
export function withSources(security: SpaceSecurity, sources: SpaceSources): SpaceSecurity {
  return { ...security, responder: { ...security.responder, ...sources } };
}

export async function loadSpaceSecurity(
  config: VacConfig,
  logger: Logger,
  options: { resolveNames?: boolean } = {},
): Promise<SpaceSecurity> {
  const s = config.settings;
  const sources = await loadSpaceSources(config, logger, options);
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
  return {
    responder: {
      keyring,
      skewSeconds,
      allowUnauthenticated: s.allowUnauthenticatedQueries,
      ...sources,
    },
    pollAuth:
      keyring === undefined || keyring === "unusable"
        ? keyring
        : { keyring, skewSeconds, replay: new ReplayCache(skewSeconds) },
    keyError,
  };
}
