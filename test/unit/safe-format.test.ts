import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BackupFormatError, UnsupportedVersionError } from '../../client/safe/errors.ts';
import { encodeSafeBackup, parseSafeBackup, validateSafeBackup } from '../../client/safe/format.ts';
import { referenceBackupJson } from '../support/threema-safe-reference.ts';

const KEY = Buffer.alloc(32, 7).toString('base64');

function backup(overrides: Record<string, unknown> = {}) {
  return { info: { version: 1, device: 'test' }, user: { privatekey: KEY }, settings: {}, ...overrides };
}

describe('Threema Safe backup JSON', () => {
  it('reads a backup as a Threema app writes it', () => {
    const parsed = parseSafeBackup(referenceBackupJson());
    expect(parsed.info.version).toBe(1);
    expect(parsed.user.nickname).toBe('Reference');
    expect(parsed.contacts).toHaveLength(1);
  });

  it('refuses a newer schema version with its own error', () => {
    const error = (() => {
      try {
        parseSafeBackup(JSON.stringify(backup({ info: { version: 2 } })));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UnsupportedVersionError);
    expect((error as UnsupportedVersionError).version).toBe(2);
    expect((error as Error).message).toMatch(/version 2.*up to 1/);
  });

  it('tolerates and keeps unknown keys at every level', () => {
    const text = JSON.stringify(
      backup({
        futureTopLevel: { a: 1 },
        info: { version: 1, device: 'x', futureInfo: true },
        user: { privatekey: KEY, futureUser: [1, 2] },
      }),
    );
    const parsed = parseSafeBackup(text);
    expect(parsed.futureTopLevel).toEqual({ a: 1 });
    expect(parsed.info.futureInfo).toBe(true);
    expect(parsed.user.futureUser).toEqual([1, 2]);
    expect(JSON.parse(encodeSafeBackup(parsed))).toEqual(JSON.parse(text));
  });

  it('refuses what is not a version-1 backup, saying what is wrong', () => {
    const cases: Array<[unknown, RegExp]> = [
      [[], /JSON object/],
      [{ user: { privatekey: KEY } }, /"info"/],
      [backup({ info: { version: 0 } }), /info.version/],
      [backup({ info: { version: 1.5 } }), /info.version/],
      [backup({ info: { version: '1' } }), /info.version/],
      [backup({ info: { version: 1, device: 3 } }), /info.device/],
      [backup({ user: undefined }), /"user"/],
      [backup({ user: { privatekey: 'not base64!' } }), /privatekey/],
      [backup({ user: { privatekey: Buffer.alloc(31).toString('base64') } }), /privatekey/],
      [backup({ user: { privatekey: KEY, nickname: 5 } }), /nickname/],
      [backup({ settings: [] }), /settings/],
      [backup({ contacts: {} }), /contacts/],
      [backup({ groups: 'x' }), /groups/],
      [backup({ distributionlists: 1 }), /distributionlists/],
    ];
    for (const [value, message] of cases) {
      expect(() => validateSafeBackup(value), JSON.stringify(value)).toThrow(message);
      expect(() => validateSafeBackup(value)).toThrow(BackupFormatError);
    }
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseSafeBackup('{"info":')).toThrow(BackupFormatError);
  });

  it('reads a backup without settings (Android does) but will not upload one', () => {
    const { settings: _, ...withoutSettings } = backup();
    expect(() => validateSafeBackup(withoutSettings)).not.toThrow();
    expect(() => validateSafeBackup(withoutSettings, { forUpload: true })).toThrow(/settings/);
    expect(() => encodeSafeBackup(withoutSettings as never)).toThrow(BackupFormatError);
  });

  it('fuzz: any text or JSON value is a backup or a typed format error, never a crash', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json(),
      fc
        .record({ info: fc.anything(), user: fc.anything(), settings: fc.anything() })
        .map((v) => JSON.stringify(v)),
      fc
        .record({ version: fc.oneof(fc.integer(), fc.double(), fc.string()), privatekey: fc.base64String() })
        .map(({ version, privatekey }) =>
          JSON.stringify(backup({ info: { version }, user: { privatekey } })),
        ),
    );
    fc.assert(
      fc.property(text, (input) => {
        try {
          const parsed = parseSafeBackup(input);
          expect(parsed.info.version).toBe(1);
          expect(Buffer.from(parsed.user.privatekey, 'base64')).toHaveLength(32);
        } catch (error) {
          expect(error instanceof BackupFormatError || error instanceof UnsupportedVersionError).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
