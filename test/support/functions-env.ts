/**
 * The environment the integration tests give the bundle's functions: their project, the Cloud Tasks
 * emulator and the retry worker's URL, retries 1 s apart, receivers on loopback allowed, no metadata
 * server. `extra` adds to it or replaces a value.
 */
export function functionsEnv(where: { projectId: string; tasksAddress: string; workerPort: number }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    GOOGLE_CLOUD_PROJECT: where.projectId,
    CLOUD_TASKS_EMULATOR_HOST: where.tasksAddress,
    RETRY_WORKER_URL: `http://127.0.0.1:${where.workerPort}/`,
    RETRY_BASE_DELAY_SECONDS: '1',
    ALLOW_LOOPBACK_DESTINATIONS: 'true',
    METADATA_SERVER_DETECTION: 'none',
    ...extra,
  };
}
