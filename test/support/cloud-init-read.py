"""cloud-init's own readers against the metadata service at 169.254.169.254, run by
test/cloud-init-reads-metadata.test.ts inside a machine's network namespace with PYTHONPATH at
an extracted Debian cloud-init package. Prints one JSON object: what each reader returned and
every warning or error cloud-init logged while reading. argv: a scratch directory."""
import json
import logging
import os
import sys

from cloudinit import distros, helpers
from cloudinit.sources import DataSourceEc2, DataSourceOpenStack
from cloudinit.sources.helpers import ec2, openstack

URL = "http://169.254.169.254"
scratch = sys.argv[1]
logged = []


class Keep(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.WARNING:
            logged.append("%s: %s" % (record.name, record.getMessage()))


logging.getLogger().addHandler(Keep())
logging.getLogger().setLevel(logging.DEBUG)


def text(b):
    return b.decode() if isinstance(b, bytes) else b


out = {"cloud_init_version": None}
try:
    from cloudinit import version

    out["cloud_init_version"] = version.version_string()
except Exception:  # noqa
    pass

# OpenStack: the version list, then meta_data.json, user_data, vendor_data.json and
# network_data.json of the version chosen, then EC2's tree, as DataSourceOpenStack reads them.
reader = openstack.MetadataReader(URL, timeout=5, retries=0)
out["openstack_version"] = reader._find_working_version()
r = DataSourceOpenStack.read_metadata_service(URL, timeout=5, retries=0)
md = r["metadata"]
out["openstack"] = {
    "instance_id": md.get("instance-id"),
    "local_hostname": md.get("local-hostname"),
    "public_keys": md.get("public_keys"),
    "meta": md.get("meta"),
    "availability_zone": md.get("availability_zone"),
    "userdata": text(r.get("userdata")),
    "vendordata": r.get("vendordata"),
    "ec2_instance_id": r.get("ec2-metadata", {}).get("instance-id"),
}
mac = r["networkdata"]["links"][0]["ethernet_mac_address"]
out["openstack"]["network_config"] = openstack.convert_net_json(
    r["networkdata"], known_macs={mac: "eth0"}
)

# EC2: the helpers DataSourceEc2 uses.
out["ec2"] = {
    "metadata": ec2.get_instance_metadata(metadata_address=URL, timeout=5, retries=0),
    "userdata": text(ec2.get_instance_userdata(metadata_address=URL, timeout=5, retries=0)),
}

# The EC2 datasource itself (its platform check off: this host is no cloud's).
paths = helpers.Paths(
    {"cloud_dir": os.path.join(scratch, "cloud"), "run_dir": os.path.join(scratch, "run")}
)
distro = distros.fetch("debian")("debian", {}, paths)
sys_cfg = {
    "datasource": {
        "Ec2": {"metadata_urls": [URL], "max_wait": 10, "timeout": 5, "strict_id": "false"}
    }
}
ds = DataSourceEc2.DataSourceEc2(sys_cfg, distro, paths)
ok = ds.get_data()
out["ec2_datasource"] = {
    "ok": ok,
    "instance_id": ds.get_instance_id() if ok else None,
    "public_keys": ds.get_public_ssh_keys() if ok else None,
    "userdata": text(ds.get_userdata_raw()) if ok else None,
    "availability_zone": ds.availability_zone if ok else None,
    "local_hostname": ds.metadata.get("local-hostname") if ok else None,
}
out["logged"] = logged
print(json.dumps(out))
