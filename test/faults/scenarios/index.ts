import type { Scenario } from '../scenario.js';
import { s1 } from './s1-sigkill.js';

/** Every scenario, in the order. */
export const scenarios: Scenario[] = [s1];
