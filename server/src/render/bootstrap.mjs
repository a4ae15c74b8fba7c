// Entry of the render worker thread: registers tsx (the server runs TypeScript sources) and loads the
// TypeScript entry named in workerData. Node 20 does not apply the parent's loader to a worker's entry file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
