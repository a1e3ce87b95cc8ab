/** The `switchyard` executable (`npm run switchyard -- …`). All the work happens in ./main.ts. */
import { runCli } from './main.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
