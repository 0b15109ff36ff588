/**
 * GOCDB's two calls, as Vac 3 made them (U810-894): a GET of the public API's service endpoint
 * by site, space and service type, whose `PRIMARY_KEY` (`1234G0`) names the service, then a PUT
 * of the space's values to the write API's ExtensionProperties of that service. Vac wrote
 * `https://goc.egi.eu` into both URLs; here it is `gocdb_api_url`.
 */
import { GOCDB_SERVICE_TYPE } from "./space-values.js";

function base(apiUrl: string): string {
  return apiUrl.replace(/\/+$/, "");
}

/** U829, with the query's values encoded (Vac put them in as they were). */
export function serviceEndpointUrl(apiUrl: string, site: string, space: string): string {
  const query = new URLSearchParams({
    method: "get_service_endpoint",
    sitename: site,
    hostname: space,
    service_type: GOCDB_SERVICE_TYPE,
  });
  return `${base(apiUrl)}/gocdbpi/public/?${query.toString()}`;
}

/** U886. */
export function extensionPropertiesUrl(apiUrl: string, serviceId: string): string {
  return `${base(apiUrl)}/gocdbpi/v5/Service/${encodeURIComponent(serviceId)}/ExtensionProperties`;
}

const ENDPOINT_TAG = /<SERVICE_ENDPOINT\b([^>]*)>/;
const PRIMARY_KEY = /\bPRIMARY_KEY\s*=\s*(?:"([^"]*)"|'([^']*)')/;

/**
 * The service's id from the GET's XML: the first SERVICE_ENDPOINT's PRIMARY_KEY up to its `G`
 * (U838-842). Only digits are taken as an id, since it goes into the PUT's path; anything else
 * is returned as the reason it cannot be used.
 */
export function serviceIdFromXml(xml: string): { id: string } | { problem: string } {
  const tag = ENDPOINT_TAG.exec(xml);
  if (!tag) return { problem: "GOCDB lists no SERVICE_ENDPOINT for this site, space and service type" };
  const key = PRIMARY_KEY.exec(tag[1] ?? "");
  if (!key) return { problem: "the SERVICE_ENDPOINT has no PRIMARY_KEY" };
  const id = (key[1] ?? key[2] ?? "").split("G")[0] ?? "";
  if (!/^\d{1,20}$/.test(id))
    return { problem: `PRIMARY_KEY ${JSON.stringify(key[1] ?? key[2])} is not NNNGN` };
  return { id };
}
