/**
 * Readiness notification to systemd (`Type=notify`): once the configuration is loaded and the
 * responder is bound, vacd tells systemd `READY=1` on the unix datagram socket named by
 * `$NOTIFY_SOCKET`.
 *
 * Node 20's dgram has no unix datagram sockets and vac takes no native module for one, so the
 * datagram is sent by `systemd-notify --ready --pid=<vacd's pid>`, run with execFile. With
 * `--pid`, systemd-notify (sd_pid_notify) puts vacd's pid in the message's SCM_CREDENTIALS;
 * the kernel allows that for a root sender (CAP_SYS_ADMIN), so systemd sees the notification
 * as coming from the main process and `NotifyAccess=main` accepts it, with no race against
 * the short-lived systemd-notify process. vacd runs as root. Where systemd-notify is missing
 * or fails, vacd logs it and goes on: systemd then gives up on the start after
 * `TimeoutStartSec`, which is what it should do when readiness cannot be told.
 */
import { execFile } from "node:child_process";
import { access, constants } from "node:fs/promises";

export interface NotifyResult {
  readonly sent: boolean;
  /** Why nothing was sent, or what failed. */
  readonly detail?: string;
}

/** Where systemd-notify is looked for (an absolute path, never the PATH of the environment). */
export const SYSTEMD_NOTIFY_PATHS = ["/usr/bin/systemd-notify", "/bin/systemd-notify"] as const;

/**
 * Tells systemd that vacd is ready, when it runs under `Type=notify` (`$NOTIFY_SOCKET` set).
 * Resolves with what happened; never rejects.
 */
export async function notifyReady(
  env: NodeJS.ProcessEnv = process.env,
  pid: number = process.pid,
  programs: readonly string[] = SYSTEMD_NOTIFY_PATHS,
): Promise<NotifyResult> {
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return { sent: false, detail: "NOTIFY_SOCKET is not set" };
  // A path (or an abstract name, "@...") only: anything else is not systemd's.
  if (!socket.startsWith("/") && !socket.startsWith("@"))
    return { sent: false, detail: `NOTIFY_SOCKET is not a socket path: ${socket.slice(0, 200)}` };
  const executable = (p: string) =>
    access(p, constants.X_OK).then(
      () => true,
      () => false,
    );
  let program: string | undefined;
  for (const p of programs) if (!program && (await executable(p))) program = p;
  if (!program) return { sent: false, detail: `systemd-notify not found in ${programs.join(", ")}` };
  return new Promise((resolve) => {
    execFile(
      program,
      ["--ready", `--pid=${pid}`],
      { env: { NOTIFY_SOCKET: socket }, timeout: 10_000 },
      (error, _stdout, stderr) => {
        if (error) resolve({ sent: false, detail: `${program}: ${String(stderr).trim() || error.message}` });
        else resolve({ sent: true });
      },
    );
  });
}
