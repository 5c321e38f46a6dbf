import { join, resolve } from 'node:path';
import { ROOT } from '../../scripts/build.ts';

/**
 * Where the local stack keeps its files (git-ignored): the secrets file, the token signing keys and the
 * running stack's hosts. `.local/` unless HOOKSHAPE_LOCAL_DIR names another directory (a test running a
 * stack of its own beside another one).
 */
export const LOCAL_DIR = process.env.HOOKSHAPE_LOCAL_DIR?.trim() ? resolve(process.env.HOOKSHAPE_LOCAL_DIR.trim()) : join(ROOT, '.local');
export const STACK_FILE = join(LOCAL_DIR, 'stack.json');
