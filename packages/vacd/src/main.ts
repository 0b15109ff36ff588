/** vacd: the factory daemon. */
export async function main(_argv: readonly string[]): Promise<void> {
  console.error("vacd: not implemented yet");
  process.exitCode = 1;
}
