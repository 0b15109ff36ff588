/**
 * Vac 3.1's machine models (S78-81) that this implementation reads differently: `cernvm4` boots
 * as `cernvm3` does (an ISO with user_data as contextualization; Vac 3.1's createVM had no
 * branch of its own for it either), and the singularity model disables only its machinetype, so
 * a site's file still loads and its other machinetypes run.
 */
export const MODEL_SYNONYMS: Readonly<Record<string, string>> = { cernvm4: "cernvm3" };

export const UNSUPPORTED_MODELS: Readonly<Record<string, string>> = {
  singularity: "the singularity machine model is not supported, so this machinetype is disabled",
};
