/**
 * Vac 3.1's machine models (S78-81) that this implementation reads differently: `cernvm4` boots
 * as `cernvm3` does (an ISO with user_data as contextualization; Vac 3.1's createVM had no
 * branch of its own for it either). A model listed in UNSUPPORTED_MODELS disables only its
 * machinetype, so a site's file still loads and its other machinetypes run; none is, since the
 * singularity model came back.
 */
export const MODEL_SYNONYMS: Readonly<Record<string, string>> = { cernvm4: "cernvm3" };

export const UNSUPPORTED_MODELS: Readonly<Record<string, string>> = {};
