// DEV/TEST TOOLING ONLY — not deployed, not production code.
// Standalone local Cloud Tasks emulator:
//   node functions/dev/cloud-tasks-emulator/main.ts --port 8123 [--host 127.0.0.1] [--tombstone-seconds 3600]

import { parseArgs } from 'node:util';
import { startCloudTasksEmulator } from './cloud-tasks-emulator.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8123' },
    'tombstone-seconds': { type: 'string', default: '3600' },
  },
});

const port = Number(values.port);
const tombstoneSeconds = Number(values['tombstone-seconds']);
if (!Number.isInteger(port) || port < 0 || port > 65535 || !(tombstoneSeconds >= 0)) {
  console.error('usage: main.ts --port <0-65535> [--host 127.0.0.1] [--tombstone-seconds 3600]');
  process.exit(2);
}

const emulator = await startCloudTasksEmulator({
  host: values.host,
  port,
  tombstoneSeconds,
  log: (line) => console.log(line),
});
console.log(`Cloud Tasks emulator listening on ${emulator.address}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void emulator.stop().then(() => console.log('Cloud Tasks emulator stopped'));
  });
}
