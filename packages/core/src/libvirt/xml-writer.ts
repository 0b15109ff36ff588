/**
 * A minimal XML writer for libvirt domain descriptions: elements are built as data and every
 * attribute value and text is escaped on output, so a path or option holding `<`, `&` or quotes
 * can never change the document's structure. Characters XML 1.0 cannot carry at all (most
 * control characters) are refused rather than silently dropped.
 */
import { VacError } from "../errors.js";

export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string | number | undefined>>;
  readonly children: readonly (XmlElement | string)[];
}

/** `el("disk", { type: "file" }, el("source", { file }))`; undefined attributes are left out. */
export function el(
  name: string,
  attrs: Readonly<Record<string, string | number | undefined>> = {},
  ...children: (XmlElement | string | undefined | false)[]
): XmlElement {
  return {
    name,
    attrs,
    children: children.filter((c): c is XmlElement | string => c !== undefined && c !== false),
  };
}

// Tab, newline and carriage return are the only control characters XML 1.0 allows.
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

function checked(value: string): string {
  if (FORBIDDEN.test(value))
    throw new VacError("VAC_ERR_UNSAFE_NAME", {
      what: "value for the domain XML",
      value: JSON.stringify(value).slice(0, 200),
      detail: "it holds control characters XML cannot carry",
    });
  return value;
}

export function escapeXmlText(value: string): string {
  return checked(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escapes for a double-quoted attribute; tab and newlines as references so parsers keep them. */
export function escapeXmlAttr(value: string): string {
  return escapeXmlText(value)
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\t/g, "&#9;")
    .replace(/\n/g, "&#10;")
    .replace(/\r/g, "&#13;");
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function renderXml(node: XmlElement, indent = ""): string {
  if (!NAME.test(node.name))
    throw new VacError("VAC_ERR_INTERNAL", { detail: `bad XML element name ${node.name}` });
  const attrs = Object.entries(node.attrs)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => {
      if (!NAME.test(k)) throw new VacError("VAC_ERR_INTERNAL", { detail: `bad XML attribute name ${k}` });
      return ` ${k}="${escapeXmlAttr(String(v))}"`;
    })
    .join("");
  if (node.children.length === 0) return `${indent}<${node.name}${attrs}/>`;
  const [only] = node.children;
  if (node.children.length === 1 && typeof only === "string")
    return `${indent}<${node.name}${attrs}>${escapeXmlText(only)}</${node.name}>`;
  const inner = node.children.map((c) =>
    typeof c === "string" ? `${indent}  ${escapeXmlText(c)}` : renderXml(c, `${indent}  `),
  );
  return [`${indent}<${node.name}${attrs}>`, ...inner, `${indent}</${node.name}>`].join("\n");
}
