/**
 * A stand-in for Singularity's or Apptainer's binary, for the singularity machine model's tests:
 * neither can be installed where these tests run. It is NOT Singularity: it makes no container,
 * mounts nothing and changes no root. It checks the command line as createSC gave it (S2116-2136),
 * records what it was given (its arguments one a line, its environment, its uid and gid, its
 * /proc/self/cgroup, its hostname, its NoNewPrivs) in the directory bound at /tmp/joboutputs, and
 * runs the file bound at /user_data with MACHINEFEATURES, JOBFEATURES and JOBOUTPUTS naming the
 * bound directories' host paths, where a real container would see them at /tmp/...
 *
 * A setuid installation of Singularity (3.x's default) starts through its setuid-root starter,
 * which no_new_privs (systemd's NoNewPrivileges=yes) keeps from gaining root: this stand-in
 * refuses to start under no_new_privs, as that starter cannot work. Apptainer 1.1 and later
 * default to user namespaces instead and may run; the stand-in models the setuid case.
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

const SCRIPT = `#!/bin/sh
# vac test stand-in for singularity/apptainer (see packages/testkit/src/singularity-stand-in.ts)
all="$0"; for a in "$@"; do all="$all
$a"; done
[ "$1" = exec ] || { echo "stand-in: expected exec, got $1" >&2; exit 64; }
shift
out=; ud=; mf=; jf=
while [ $# -gt 2 ]; do
  case "$1" in
    --contain) shift ;;
    --workdir) shift 2 ;;
    --bind)
      case "$2" in
        *:/tmp/joboutputs) out=\${2%:/tmp/joboutputs} ;;
        *:/tmp/jobfeatures) jf=\${2%:/tmp/jobfeatures} ;;
        *:/tmp/machinefeatures) mf=\${2%:/tmp/machinefeatures} ;;
        *:/user_data) ud=\${2%:/user_data} ;;
      esac
      shift 2 ;;
    *) echo "stand-in: unexpected option $1" >&2; exit 64 ;;
  esac
done
[ $# -eq 2 ] || { echo "stand-in: expected IMAGE COMMAND, got $# words" >&2; exit 64; }
[ -n "$out" ] && [ -n "$ud" ] || { echo "stand-in: joboutputs or user_data not bound" >&2; exit 64; }
if grep -q '^NoNewPrivs:[[:space:]]*1' /proc/self/status; then
  echo "stand-in: FATAL: the setuid starter cannot gain privileges under no_new_privs" >&2
  exit 255
fi
printf '%s\\n' "$all" > "$out/stand-in.argv"
env > "$out/stand-in.env"
echo "$(id -u) $(id -g)" > "$out/stand-in.ids"
cat /proc/self/cgroup > "$out/stand-in.cgroup"
hostname > "$out/stand-in.hostname"
[ "$2" = /user_data ] || { echo "stand-in: runs only /user_data, not $2" >&2; exit 127; }
MACHINEFEATURES=$mf JOBFEATURES=$jf JOBOUTPUTS=$out exec "$ud"
`;

/**
 * Writes the stand-in as `dir/name` (name: singularity or apptainer), with `dir` and the stand-in
 * readable and executable by every user (it runs as singularity_user). Returns its path.
 */
export async function writeSingularityStandIn(dir: string, name = "singularity"): Promise<string> {
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
  const path = join(dir, name);
  await writeFile(path, SCRIPT, { mode: 0o755 });
  await chmod(path, 0o755);
  return path;
}
