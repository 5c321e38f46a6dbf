/**
 * A Firestore client of the kit (the bundle's) on a project of its own in the emulator, and an adapter
 * made from it, for the describe block that calls this: made before its tests, terminated after them.
 */
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { Firestore } from './kit.ts';

export function onEmulatorProject<T>(prefix: string, make: (db: Firestore) => T): { readonly db: Firestore; readonly adapter: T } {
  const projectId = `${prefix}-${randomBytes(4).toString('hex')}`;
  let made: { db: Firestore; adapter: T } | undefined;
  before(() => {
    const db = new Firestore({ projectId });
    made = { db, adapter: make(db) };
  });
  after(() => made?.db.terminate());
  const ready = () => {
    if (!made) throw new Error('onEmulatorProject: read before its before() hook ran');
    return made;
  };
  return {
    get db() {
      return ready().db;
    },
    get adapter() {
      return ready().adapter;
    },
  };
}
