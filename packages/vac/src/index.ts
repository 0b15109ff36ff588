export { main } from "./cli.js";
export { checkVacd, judge, NAGIOS, type Observations, type Verdict } from "./commands/check-vacd.js";
