import type { Firestore } from '@google-cloud/firestore';
import type { RecoverJob, RecoverJobStore } from '../api/ports.ts';
import { recoverJobPath } from './firestore-layout.ts';
import { fromFirestore } from './firestore-values.ts';

/** Bulk recoveries at accounts/{a}/recoverJobs/{jobId}, rewritten as they progress. */
export class FirestoreRecoverJobs implements RecoverJobStore {
  private readonly db: Firestore;

  constructor(db: Firestore) {
    this.db = db;
  }

  async save(job: RecoverJob): Promise<void> {
    await this.db.doc(recoverJobPath(job.accountId, job.id)).set(job);
  }

  async get(accountId: string, jobId: string): Promise<RecoverJob | undefined> {
    const snapshot = await this.db.doc(recoverJobPath(accountId, jobId)).get();
    return snapshot.exists ? fromFirestore<RecoverJob>(snapshot.data()) : undefined;
  }
}
