/**
 * The Threema Safe client SDK: derive keys from a Threema ID and password, build and read the
 * backup JSON, encrypt and decrypt bodies, and talk to any Threema-compatible Safe server.
 */
export type { BackupId, SafeConfig } from '../../protocol/safe.ts';
export {
  backupToSafe,
  parseSafeServerUrl,
  restoreFromSafe,
  SafeClient,
  type SafeServerOptions,
  type SafeSession,
  type ServerCredentials,
} from './client.ts';
export { decryptSafeBackup, encryptSafeBackup } from './codec.ts';
export * from './errors.ts';
export {
  encodeSafeBackup,
  parseSafeBackup,
  type SafeBackup,
  type SafeBackupInfo,
  type SafeBackupUser,
  validateSafeBackup,
} from './format.ts';
export {
  checkSafePassword,
  type DeriveOptions,
  deriveMasterKey,
  deriveSafeKeys,
  normaliseSafeIdentity,
  type SafeKeys,
  splitMasterKey,
} from './keys.ts';
