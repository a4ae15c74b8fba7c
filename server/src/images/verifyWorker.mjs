// Piscina worker entry for reference-image checks: registers tsx (the server runs TypeScript sources) and
// exports the TypeScript task. Node 20 does not apply the parent's loader to a worker's entry file.
import { register } from 'tsx/esm/api';

register();
const task = await import(new URL('./verifyTask.ts', import.meta.url).href);
export default task.default;
