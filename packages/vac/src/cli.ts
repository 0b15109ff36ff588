/** vac: the administrator's command. */
export async function main(_argv: readonly string[]): Promise<number> {
  console.error("vac: not implemented yet");
  return 1;
}
