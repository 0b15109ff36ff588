import assert from "node:assert/strict";
import { test } from "node:test";
import { substituteUserData, type UserDataContext } from "@vac/core";

const base: UserDataContext = {
  uuid: "0b1c2d3e-0000-4000-8000-000000000001",
  space: "vac01.example.com",
  machinetype: "lhcb",
  machineHostname: "wn01-00.example.com",
  managerVersion: "vac 0.1.0",
  managerHostname: "wn01.example.com",
  machinefeaturesUrl: "http://169.254.169.253/machinefeatures",
  jobfeaturesUrl: "http://169.254.169.253/jobfeatures",
  joboutputsUrl: "http://169.254.169.253/joboutputs",
  options: {},
  files: {},
};

test("the VMLM spellings, the uuid and both URL built-ins are filled as Vac filled them (U227, U266, U281-288)", () => {
  const r = substituteUserData(
    "v=##user_data_vmlm_version## h=##user_data_vmlm_hostname## id=##user_data_uuid## u=##user_data_url## i=##user_data_root_image_url##",
    { ...base, userDataUrl: "https://repo.example/ud", rootImageUrl: "https://repo.example/cernvm.iso" },
  );
  assert.equal(
    r.text,
    `v=vac 0.1.0 h=wn01.example.com id=${base.uuid} u=https://repo.example/ud i=https://repo.example/cernvm.iso`,
  );
  assert.deepEqual(r.unknown, []);
});

test("user_data and root_image URLs are removed, not kept, when the sources are local files", () => {
  const r = substituteUserData("u=##user_data_url##;i=##user_data_root_image_url##;", base);
  assert.equal(r.text, "u=;i=;");
  assert.deepEqual(r.unknown, ["##user_data_url##", "##user_data_root_image_url##"]);
});

test("a user_data_file_X fills both ##user_data_option_X## and the deprecated ##user_data_file_X## (U303-309)", () => {
  const r = substituteUserData("a=##user_data_file_cert## b=##user_data_option_cert##", {
    ...base,
    files: { cert: "PEM" },
  });
  assert.equal(r.text, "a=PEM b=PEM");
});

test("the proxy is substituted at ##user_data_option_x509_proxy## and wins over an option of that name", () => {
  const r = substituteUserData("p=##user_data_option_x509_proxy##", {
    ...base,
    options: { x509_proxy: "site value" },
    x509Proxy: "-----BEGIN CERTIFICATE-----",
  });
  assert.equal(r.text, "p=-----BEGIN CERTIFICATE-----");
});

test("unknown patterns, empty ones and Vac's comma form are removed and each reported (U315)", () => {
  const r = substituteUserData(
    "[##user_data_nonsense##][##user_data_##][##user_data_a,b##][##USER_DATA_X##]",
    base,
  );
  assert.equal(r.text, "[][][][##USER_DATA_X##]");
  assert.deepEqual(r.unknown, ["##user_data_nonsense##", "##user_data_##", "##user_data_a,b##"]);
});

test("a substituted value is not substituted again", () => {
  const r = substituteUserData("##user_data_option_a##", { ...base, options: { a: "##user_data_space##" } });
  assert.equal(r.text, "##user_data_space##");
});
