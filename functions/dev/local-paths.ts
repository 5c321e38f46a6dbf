import { join } from 'node:path';
import { ROOT } from '../../scripts/build.ts';

/** Where the local stack keeps its files (git-ignored): the secrets file and the running stack's hosts. */
export const LOCAL_DIR = join(ROOT, '.local');
export const STACK_FILE = join(LOCAL_DIR, 'stack.json');
