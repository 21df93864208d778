import type { Scenario } from '../scenario.js';
import { s1 } from './s1-sigkill.js';
import { s2 } from './s2-rabbitmq.js';
import { s3 } from './s3-mariadb.js';
import { s4 } from './s4-consumer-timeout.js';
import { s5 } from './s5-cancel.js';
import { s6 } from './s6-output-disk.js';
import { s7 } from './s7-bad-input.js';
import { s8 } from './s8-node-kill.js';
import { s9 } from './s9-purge.js';
import { s10 } from './s10-cluster-restart.js';
import { s11 } from './s11-notify.js';
import { s12 } from './s12-import-resume.js';
import { s13 } from './s13-chain-kill.js';

/**
 * Every scenario, in the issue's order. The chains' scenario is 13, the resumed import's 12.
 */
export const scenarios: Scenario[] = [s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13];
