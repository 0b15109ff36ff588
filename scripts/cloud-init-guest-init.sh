#!/vac/busybox sh
# /init of vac's cloud-init guest (scripts/build-cloud-init-guest.sh): boots cloud-init as a cloud
# image's systemd would, in order: ds-identify chooses the datasources from what the machine
# says it is (its DMI), then `cloud-init init --local` (which reads the metadata service through
# an ephemeral DHCP lease), the network it rendered is raised (ifupdown), `cloud-init init`. Then
# it reports what cloud-init read on the console and in the 9p joboutputs, and powers off.
bb=/vac/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs devtmpfs /dev
$bb mount -t tmpfs tmpfs /run
$bb mount -t tmpfs tmpfs /tmp
exec </dev/console >/dev/console 2>&1
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
log() { echo "cloud guest: $*"; }
while read -r ko; do $bb insmod "/vac/modules/$ko" || log "insmod $ko failed"; done </vac/modules/load-order
$bb mount -t 9p -o trans=virtio,version=9p2000.L,rw joboutputs /etc/machineoutputs || log "no 9p joboutputs"
n=0
until [ -e /sys/class/net/eth0 ] || [ "$n" -ge 50 ]; do sleep 0.1; n=$((n + 1)); done
ip link set lo up
hostname localhost
log "DMI product_name=$(cat /sys/class/dmi/id/product_name) sys_vendor=$(cat /sys/class/dmi/id/sys_vendor) product_uuid=$(cat /sys/class/dmi/id/product_uuid)"

log "=== ds-identify"
/usr/lib/cloud-init/ds-identify --force
log "ds-identify wrote /run/cloud-init/cloud.cfg: $(tr '\n' ' ' </run/cloud-init/cloud.cfg 2>/dev/null)"
grep -E '^(DMI_PRODUCT_NAME|DSLIST|MODE|ON_FOUND|ON_MAYBE|ON_NOTFOUND|check for|found=|Found)' /run/cloud-init/ds-identify.log

log "=== cloud-init init --local"
cloud-init init --local
log "cloud-init init --local exited $?"
log "the network cloud-init rendered: $(ls /etc/network/interfaces.d)"
cat /etc/network/interfaces.d/*
# What systemd's networking.service does between the two stages on a Debian cloud image; if
# ifupdown cannot, the lease is taken as its dhcp stanza would take it.
mkdir -p /run/network
ifup -v -a || { log "ifup -a failed: dhclient eth0 instead"; dhclient -1 eth0; }
log "eth0: $(ip -o -4 addr show dev eth0 | awk '{print $4}')"

log "=== cloud-init init"
cloud-init init
log "cloud-init init exited $?"

log "=== what cloud-init read"
{
  echo "datasource: $(cloud-init query v1.platform) $(cloud-init query v1.subplatform)"
  echo "instance-id: $(cloud-init query v1.instance_id)"
  echo "local-hostname: $(cloud-init query v1.local_hostname)"
  echo "instance directory: $(ls /var/lib/cloud/instances)"
  echo "public keys: $(cloud-init query ds.meta_data.public_keys | tr -s ' \n' ' ')"
  echo "meta: $(cloud-init query ds.meta_data.meta | tr -s ' \n' ' ')"
  echo "user-data:"
  cat /var/lib/cloud/instance/user-data.txt
  echo "authorized_keys of the default user:"
  cat /home/*/.ssh/authorized_keys 2>/dev/null || echo "(none)"
  echo "cloud-init's warnings and errors, with the first lines of each traceback:"
  grep -A 12 -E 'WARNING|ERROR' /var/log/cloud-init.log | grep -vE ' - [a-z_.]+\.py\[DEBUG\]' | head -n 60
  echo "cloud-init schema --system:"
  cloud-init schema --system 2>&1 | tail -n 8
  cloud-init status --long
} 2>&1 | tee /etc/machineoutputs/cloud-init-read
cp /var/log/cloud-init.log /etc/machineoutputs/cloud-init.log 2>/dev/null
if grep -qx "instance-id: $(cat /sys/class/dmi/id/product_uuid)" /etc/machineoutputs/cloud-init-read; then
  echo "300 cloud-init read its instance-id" >/etc/machineoutputs/shutdown_message
else
  echo "500 cloud-init did not read the machine's instance-id" >/etc/machineoutputs/shutdown_message
fi
sync
$bb poweroff -f
