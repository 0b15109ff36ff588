/**
 * A factory named without a dot in `factories` is completed with this factory's own domain, as
 * Vac's canonicalFQDN did (S864-879): `wn02` on wn01.example.org is wn02.example.org. A reply
 * comes under the responder's full name, and Vac made each cookie from the completed name (S2698,
 * S2714), so a short name left as written would match no reply. Vac took the domain from the
 * host's name (os.uname, which it required to be fully qualified, S184-185) and named the
 * factory by it too (S2952); here the domain is that of `factory_name`, which defaults to the
 * host's name: the same thing, unless a site names its factory otherwise, when the name the
 * space knows is the one to follow. Pure: the host's name is looked up by the caller.
 */

/** The domain of a fully qualified name (`example.org` of `wn01.example.org`), or undefined. */
export function domainOf(name: string): string | undefined {
  const dot = name.indexOf(".");
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1) : undefined;
}

/**
 * `name` completed with the domain of `ownName` when it has no dot; as it is when it has one,
 * or when `ownName` has no domain to give (Vac then returned the name as given, S877-879).
 */
export function canonicalFactoryName(name: string, ownName: string): string {
  if (name.includes(".")) return name;
  const domain = domainOf(ownName);
  return domain === undefined ? name : `${name}.${domain}`;
}
