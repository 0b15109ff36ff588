// The generator lives in core, where `vac simulate` uses it too; testkit's users import it here.
export { seededRandom } from "@vac/core";
