/**
 * The machines' lines in /etc/hosts, as pure text: Vac 3.1's line (S2360), one per slot, and a
 * rewrite that replaces only the lines ending with Vac's mark, leaves every other line as it
 * was (comments, CRLF, a last line without a newline), and changes nothing the second time.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  countMachineHostsLines,
  type HostsEntry,
  isMachineHostsLine,
  machineHostsEntries,
  machineHostsLine,
  rewriteHostsText,
} from "../src/index.js";

const names = (n: number, factory = "wn01", domain = ".example.com") =>
  Array.from({ length: n }, (_, i) => `${factory}-${String(i).padStart(2, "0")}${domain}`);
const entries = (n: number) => machineHostsEntries(names(n));
const OURS_3 = [
  "169.254.169.0 wn01-00 wn01-00.example.com # added by Vac\n",
  "169.254.169.1 wn01-01 wn01-01.example.com # added by Vac\n",
  "169.254.169.2 wn01-02 wn01-02.example.com # added by Vac\n",
].join("");

const SYSTEM = [
  "127.0.0.1   localhost localhost.localdomain localhost4 localhost4.localdomain4\n",
  "::1         localhost localhost.localdomain localhost6 localhost6.localdomain6\n",
  "\n",
  "# the site's own\n",
  "10.1.2.3 wn01.example.com wn01\n",
  "169.254.169.7 admin-kept # added by vac, lower case: not ours\n",
  "10.1.2.4 other # added by Vacuum\n",
].join("");

test("slot N's line is Vac 3.1's: 169.254.169.N, short name, FQDN, '# added by Vac' (S2356-2360)", () => {
  assert.deepEqual(entries(2), [
    { ip: "169.254.169.0", names: ["wn01-00", "wn01-00.example.com"] },
    { ip: "169.254.169.1", names: ["wn01-01", "wn01-01.example.com"] },
  ]);
  const [first] = entries(1);
  assert.equal(
    machineHostsLine(first as HostsEntry),
    "169.254.169.0 wn01-00 wn01-00.example.com # added by Vac",
  );
  // A factory name without a domain (Vac needed one, S2349) has one name a line.
  assert.deepEqual(machineHostsEntries(["wn01-00"]), [{ ip: "169.254.169.0", names: ["wn01-00"] }]);
  assert.equal(machineHostsEntries(names(253))[252]?.ip, "169.254.169.252");
});

test("only a line ending with the exact mark is vacd's", () => {
  assert.equal(isMachineHostsLine("169.254.169.0 a a.b # added by Vac"), true);
  assert.equal(isMachineHostsLine("169.254.169.0 a a.b # added by Vac  \r"), true);
  assert.equal(isMachineHostsLine("169.254.169.0 a\t# added by Vac"), true);
  assert.equal(isMachineHostsLine("169.254.169.0 a # added by vac"), false);
  assert.equal(isMachineHostsLine("169.254.169.0 a # added by Vacuum"), false);
  assert.equal(isMachineHostsLine("169.254.169.0 a # added by Vac, then edited"), false);
  assert.equal(isMachineHostsLine("169.254.169.0 a#added by Vac"), false);
});

test("a file with other entries, comments and blank lines gets vacd's lines at its end, the rest unchanged", () => {
  const out = rewriteHostsText(SYSTEM, entries(3));
  assert.equal(out, SYSTEM + OURS_3);
  assert.equal(countMachineHostsLines(out), 3);
  assert.equal(rewriteHostsText("", entries(3)), OURS_3, "an empty file");
});

test("a last line without a newline gets one before vacd's lines, and keeps it when they go", () => {
  const text = "127.0.0.1 localhost\n10.1.2.3 wn01";
  assert.equal(rewriteHostsText(text, entries(3)), `${text}\n${OURS_3}`);
  assert.equal(rewriteHostsText(text, []), text, "nothing to add: the file is left as it is");
  assert.equal(rewriteHostsText(`${text}\n${OURS_3}`, []), `${text}\n`);
  const ownLast = `127.0.0.1 localhost\n169.254.169.9 old-09 old-09.example.com # added by Vac`;
  assert.equal(rewriteHostsText(ownLast, entries(1)), `127.0.0.1 localhost\n${OURS_3.split("\n")[0]}\n`);
});

test("a CRLF file gets CRLF lines, and its own lines keep their CRs", () => {
  const text = "127.0.0.1 localhost\r\n# comment\r\n10.1.2.3 wn01\r\n";
  const out = rewriteHostsText(text, entries(3));
  assert.equal(out, text + OURS_3.replaceAll("\n", "\r\n"));
  assert.equal(rewriteHostsText(out, entries(3)), out);
  assert.equal(rewriteHostsText(out, entries(1)), `${text}${OURS_3.split("\n")[0]}\r\n`);
  assert.equal(rewriteHostsText(out, []), text);
});

test("a previous vac block (Vac 3.1's 100 lines, an old name) is replaced where it stands, duplicates collapsed", () => {
  const vac31 = names(100, "oldname")
    .map((n, i) => `169.254.169.${i} ${n.split(".")[0]} ${n} # added by Vac\n`)
    .join("");
  const after = "10.9.9.9 added-after-vac\n";
  const text = `${SYSTEM}${vac31}${after}169.254.169.0 oldname-00 oldname-00.example.com # added by Vac\n`;
  const out = rewriteHostsText(text, entries(3));
  assert.equal(out, `${SYSTEM}${OURS_3}${after}`);
  assert.equal(countMachineHostsLines(text), 101);
  assert.equal(countMachineHostsLines(out), 3);
  // A Vac 3.1 block that is already right stays byte for byte: Vac's line is ours.
  const right = `${SYSTEM}${OURS_3}${after}`;
  assert.equal(rewriteHostsText(right, entries(3)), right);
});

test("fewer slots, or none, remove vacd's lines of the slots that are gone and no other line", () => {
  const text = SYSTEM + OURS_3;
  assert.equal(rewriteHostsText(text, entries(1)), SYSTEM + OURS_3.split("\n")[0] + "\n");
  assert.equal(rewriteHostsText(text, []), SYSTEM);
});

test("a name that is no host name, or an address that is no IPv4 address, writes nothing", () => {
  for (const bad of [
    "wn 01-00.example.com",
    "wn01-00.example.com\n10.0.0.1 evil",
    "wn01-00.example.com # x",
    "-wn01-00.example.com",
    "wn01-00..example.com",
    `${"x".repeat(61)}-00.example.com`,
    "",
  ])
    assert.throws(() => machineHostsEntries([bad]), { code: "VAC_ERR_UNSAFE_NAME" }, JSON.stringify(bad));
  for (const e of [
    { ip: "169.254.169.1\n10.0.0.1", names: ["a"] },
    { ip: "169.254.169.256", names: ["a"] },
    { ip: "169.254.169.1", names: [] },
    { ip: "169.254.169.1", names: ["a b"] },
  ])
    assert.throws(() => rewriteHostsText(SYSTEM, [e]), { code: "VAC_ERR_UNSAFE_NAME" }, JSON.stringify(e));
  assert.throws(() => machineHostsEntries(names(254)), { code: "VAC_ERR_MACHINE_NETWORK_SLOTS" });
});

test("property: other lines are kept in order, vacd's lines are exactly the entries, a second rewrite changes nothing", () => {
  const line = fc
    .string({ maxLength: 40, unit: fc.constantFrom("a", " ", "#", "1", ".", "\t", "é") })
    .filter((l) => !isMachineHostsLine(l));
  const marked = fc.constantFrom(
    "169.254.169.4 old-04 old-04.example.com # added by Vac",
    "169.254.169.0 wn01-00 wn01-00.example.com # added by Vac",
  );
  fc.assert(
    fc.property(
      fc.array(fc.oneof(line, marked), { maxLength: 12 }),
      fc.constantFrom("\n", "\r\n"),
      fc.boolean(),
      fc.nat(4),
      (lines, eol, finalNewline, slots) => {
        const text = lines.join(eol) + (finalNewline && lines.length > 0 ? eol : "");
        const out = rewriteHostsText(text, entries(slots));
        assert.equal(rewriteHostsText(out, entries(slots)), out);
        assert.deepEqual(
          out
            .split("\n")
            .filter((l) => isMachineHostsLine(l))
            .map((l) => l.replace(/\r$/, "")),
          entries(slots).map((e) => machineHostsLine(e)),
        );
        const others = (t: string) =>
          (t.match(/[^\n]*\n|[^\n]+$/g) ?? [])
            .map((l) => l.replace(/\r?\n$/, ""))
            .filter((l) => !isMachineHostsLine(l));
        assert.deepEqual(others(out), others(text));
      },
    ),
  );
});
