/** The `switchyard-ops` executable (`npm run ops -- …`). All the work happens in ./main.ts. */
import { runOps } from './main.ts';

process.exitCode = await runOps(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
