/**
 * The factory's own backoff from starting machines. A start that fails (the hypervisor refuses,
 * user_data cannot be read, a start never completes) is this factory's problem, not the
 * machinetype's: Vac never counted a failed creation as an abort, and publishing one would put
 * the machinetype in backoff on every healthy factory of the space within a second. Instead this
 * factory alone waits before starting anything again, 30 s after the first failure, doubling up
 * to 30 minutes, and forgets it all at the first start that works. Its times are monotonic
 * (Clock.monotonic): a backoff this vacd computed is a duration, which no clock step stretches.
 *
 * For tests only, `VAC_TEST_START_BACKOFF_SECONDS=N` (1 to 30) makes the first delay N seconds,
 * doubling to the same cap, so that an end-to-end test sees two backoffs without a minute's wait.
 */
export const START_BACKOFF_FIRST_SECONDS = 30;
export const START_BACKOFF_MAX_SECONDS = 1800;

/** `VAC_TEST_START_BACKOFF_SECONDS`'s first delay; Vac's 30 s for anything but 1 to 30. */
export function startBackoffFirstSeconds(value: string | undefined): number {
  const n = value !== undefined && /^\d{1,2}$/.test(value) ? Number(value) : 0;
  return n >= 1 && n <= START_BACKOFF_FIRST_SECONDS ? n : START_BACKOFF_FIRST_SECONDS;
}

export class StartBackoff {
  private failures = 0;
  private until = 0;

  constructor(private readonly firstSeconds = START_BACKOFF_FIRST_SECONDS) {}

  /** Counts a failed start at `now`; returns the new backoff. */
  failed(now: number): { failures: number; delaySeconds: number; until: number } {
    this.failures += 1;
    const delaySeconds = Math.min(
      START_BACKOFF_MAX_SECONDS,
      this.firstSeconds * 2 ** Math.min(this.failures - 1, 20),
    );
    this.until = now + delaySeconds;
    return { failures: this.failures, delaySeconds, until: this.until };
  }

  /** A start went through: the next failure starts from the first delay again. */
  succeeded(): boolean {
    const was = this.failures > 0;
    this.failures = 0;
    this.until = 0;
    return was;
  }

  /** The time until which nothing is started, when that is after `now`. */
  blockedUntil(now: number): number | undefined {
    return this.until > now ? this.until : undefined;
  }
}
