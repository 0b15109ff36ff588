/**
 * `vac squid-conf IN OUT`'s text (Vac's makeSquidConf, V246-296): the template IN as it is, then
 * for each factory of the space, in order of name, `acl localnet src IP/32` and, for a factory
 * other than this one, `cache_peer IP sibling 3128 3130 default`, so each factory's squid serves
 * the machines of every factory and asks its siblings first. Nothing in the template is replaced:
 * Vac's own template (squid.conf.vac) ends with the comment "Per-factory acl and cache_peer lines
 * added here", and the lines are appended after it. A factory whose name does not resolve is left
 * out, as Vac left it out.
 */

export interface SquidFactory {
  readonly name: string;
  /** Its first IPv4 address, as gethostbyname_ex gave Vac; undefined when the name did not resolve. */
  readonly ip: string | undefined;
}

export function squidConf(template: string, factories: readonly SquidFactory[], self: string): string {
  let text = template;
  for (const f of [...factories].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (f.ip === undefined) continue;
    text += `acl localnet src ${f.ip}/32\n`;
    if (f.name !== self) text += `cache_peer ${f.ip} sibling 3128 3130 default\n`;
  }
  return text;
}
