/**
 * The Safe backup panel's vault option (docs/SAFE.md, "Protected by the vault"): a backup named and
 * encrypted by a random key that the server's vault keeps under a short password, which allows a
 * chosen number of wrong ones; and the restore of such a backup on a new device with the ID, a code
 * sent to the address linked to it, and the short password. Linking that address is here too: the
 * vault refuses to keep a key nobody could ask a code for (`address_required`).
 *
 * The vault client needs OPAQUE's WebAssembly, so it is a file of its own (vault.js, web/vault.ts)
 * imported when a vault checkbox is ticked, never on a first visit. Passwords stay in their fields
 * and in the call that uses them; nothing here is stored or logged.
 */
import type { DirectoryClient } from '../client/directory/client.ts';
import type { IdentityKeys } from '../client/identity-record.ts';
import { SafeClient } from '../client/safe/client.ts';
import type { SafeBackup } from '../client/safe/format.ts';
import { protectSafeBackup, restoreProtectedSafeBackup } from '../client/vault/safe.ts';
import { type ContactKind, normaliseContact } from '../protocol/contacts.ts';
import { LIMITS } from '../protocol/limits.ts';
import type { Config } from './config.ts';
import { $, normaliseId, onClick, Refusal, say, showGroup } from './page.ts';

type VaultModule = typeof import('./vault.ts');

/**
 * The built vault code, next to app.js (web/build.ts). A URL made at run time, so esbuild leaves the
 * `import()` to the browser instead of bundling the module into app.js.
 */
const VAULT_SCRIPT = 'vault.js';

/** The wrong short passwords a new protected backup allows unless the person picks another number. */
export const DEFAULT_TRIES = 5;

const VAULT_TEXT: Readonly<Record<string, string>> = {
  vault_login_failed:
    'Wrong short password, or no backup protected by the vault for this ID: a try is spent (if there ' +
    'is one). After the last wrong one the backup allows, the vault deletes its key, and the backup is ' +
    'gone for good. Ask for a new code to try again.',
  address_required:
    'Link an e-mail address or phone number to your ID first (below): restoring needs a code sent ' +
    'there. Nothing was backed up.',
  code_invalid: 'The code is wrong, expired or used up; no try was spent. Check it, or ask for a new one.',
  proof_invalid: "The server refused this device's key for the ID.",
  not_found: 'No active identity with that ID.',
  rate_limited: 'Too many requests: wait a little and try again.',
  unreachable: 'Could not reach the vault.',
  unexpected: 'The vault gave an answer this page does not understand.',
};

let loading: Promise<VaultModule> | undefined;

/** The vault module, imported once (and again after a failed load). */
function loadVault(): Promise<VaultModule> {
  loading ??= (import(new URL(VAULT_SCRIPT, import.meta.url).href) as Promise<VaultModule>).catch(() => {
    loading = undefined;
    throw new Refusal("Could not load the vault's code from this site. Nothing was changed; try again.");
  });
  return loading;
}

/** Runs a step with the vault client; its refusals (vault.js's own error class) become words. */
async function withVault<T>(step: (vault: VaultModule) => Promise<T>): Promise<T> {
  const vault = await loadVault();
  try {
    return await step(vault);
  } catch (error) {
    if (error instanceof vault.VaultError)
      throw new Refusal(VAULT_TEXT[error.code] ?? `The vault refused the request (${error.code}).`);
    throw error;
  }
}

function clients(config: Config, vault: VaultModule) {
  return {
    vault: new vault.VaultClient({ server: config.httpUrl }),
    safe: new SafeClient({ server: config.safeUrl }),
  };
}

/** The address typed in `fieldId` and its kind (an e-mail address has an @), or a Refusal. */
function typedAddress(fieldId: string): { kind: ContactKind; address: string } {
  const value = $<HTMLInputElement>(fieldId).value;
  const kind: ContactKind = value.includes('@') ? 'email' : 'phone';
  try {
    return { kind, address: normaliseContact(kind, value) };
  } catch {
    throw new Refusal(
      kind === 'email'
        ? 'That is not an e-mail address.'
        : 'That is neither an e-mail address nor a phone number in international form (e.g. +41 79 123 45 67).',
    );
  }
}

/**
 * Wires the vault option of the backup form and of the restore form: the checkboxes that swap the
 * Safe password for the vault's fields, linking an address, and asking for a restore code. `me` is
 * the open identity (the backup panel is shown only with one).
 */
export function wireProtection(
  config: Config,
  directory: DirectoryClient,
  me: () => IdentityKeys | undefined,
): void {
  const tries = $<HTMLSelectElement>('vault-tries');
  for (let n = 1; n <= LIMITS.vaultMaxTries; n++)
    tries.add(new Option(String(n), String(n), n === DEFAULT_TRIES, n === DEFAULT_TRIES));
  option('backup-vault', 'backup-plain', 'backup-vault-fields');
  option('restore-vault', 'restore-plain', 'restore-vault-fields');
  const linker = new Linker(directory);
  onClick('link-send', () => linker.send(me()));
  onClick('link-confirm', () => linker.confirm(me()));
  onClick('restore-send', () => sendRestoreCode(config));
  enterRuns('link-address', 'link-send');
  enterRuns('link-code', 'link-confirm');
  enterRuns('restore-address', 'restore-send');
}

/** Enter in the field runs the step of the button beside it, instead of submitting the whole form. */
function enterRuns(fieldId: string, buttonId: string): void {
  $(fieldId).addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    $(buttonId).click();
  });
}

/** A checkbox that swaps the `plain` group of fields for the `vault` group, and loads the vault. */
function option(boxId: string, plainId: string, vaultId: string): void {
  const box = $<HTMLInputElement>(boxId);
  const sync = () => {
    showGroup($<HTMLFieldSetElement>(plainId), !box.checked);
    showGroup($<HTMLFieldSetElement>(vaultId), box.checked);
  };
  // Unticked on every load (a browser may restore a ticked box on reload): the page starts plain.
  box.checked = false;
  sync();
  box.addEventListener('change', () => {
    sync();
    // Fetched while the person types; a failure is reported by the step that needs the code.
    if (box.checked) loadVault().catch(() => undefined);
  });
}

/** Linking an address to the open identity: a code goes there, typed back to confirm it. */
class Linker {
  private pending: { kind: ContactKind; address: string } | undefined;

  constructor(private readonly directory: DirectoryClient) {}

  async send(me: IdentityKeys | undefined): Promise<void> {
    if (!me) return;
    const target = typedAddress('link-address');
    const status = $('link-status');
    status.textContent = 'Sending a code…';
    try {
      await this.directory.owner(me.identity, me.keys.secretKey).link(target.kind, target.address);
    } catch (error) {
      status.textContent = '';
      throw error;
    }
    this.pending = target;
    $('link-confirm-row').hidden = false;
    status.textContent = 'A code is on its way to that address: type it in to link the address.';
    $('link-code').focus();
  }

  async confirm(me: IdentityKeys | undefined): Promise<void> {
    if (!me || !this.pending) throw new Refusal('Send a code to the address first.');
    const field = $<HTMLInputElement>('link-code');
    const code = field.value.trim();
    if (!/^[0-9]{6}$/.test(code)) throw new Refusal('The code is 6 digits.');
    const { kind } = this.pending;
    await this.directory.owner(me.identity, me.keys.secretKey).confirm(kind, code);
    this.pending = undefined;
    field.value = '';
    $<HTMLInputElement>('link-address').value = '';
    $('link-confirm-row').hidden = true;
    $('link-status').textContent =
      `Linked: a restore asks for a code sent to that ${kind === 'email' ? 'e-mail address' : 'phone number'}.`;
  }
}

/**
 * Backs `backup` up under a new random key and keeps the key in the vault under the short password
 * (`protectSafeBackup`); returns the words for the panel. A refused store leaves no new backup.
 */
export async function protectBackup(
  config: Config,
  me: IdentityKeys,
  backup: SafeBackup,
  status: (text: string) => void,
): Promise<string> {
  const password = $<HTMLInputElement>('vault-password');
  const repeat = $<HTMLInputElement>('vault-repeat');
  if (password.value !== repeat.value)
    throw new Refusal('The two short passwords differ. Nothing was backed up.');
  const tries = Number($<HTMLSelectElement>('vault-tries').value);
  if (!Number.isInteger(tries) || tries < 1 || tries > LIMITS.vaultMaxTries)
    throw new Refusal(`Allow 1 to ${LIMITS.vaultMaxTries} wrong passwords. Nothing was backed up.`);
  status('Loading the vault…');
  const result = await withVault((vault) => {
    status('Encrypting and uploading the backup, then keeping its key in the vault…');
    return protectSafeBackup(clients(config, vault), {
      identity: me.identity,
      secretKey: me.keys.secretKey,
      password: password.value,
      backup,
      tries,
    });
  });
  password.value = '';
  repeat.value = '';
  return (
    `Backup stored: ${result.bytes} encrypted bytes, kept ${result.config.retentionDays} days after the last ` +
    `backup. Its key is in the vault: ${tries} wrong short password${tries === 1 ? '' : 's'} allowed.`
  );
}

/** The restore code asked for last: its request handle unlocks one attempt for that ID. */
let restoreCode: { identity: string; request: Uint8Array } | undefined;

async function sendRestoreCode(config: Config): Promise<void> {
  const identity = normaliseId($<HTMLInputElement>('restore-id').value);
  const target = typedAddress('restore-address');
  say('Asking the vault for a code…');
  const request = await withVault((vault) =>
    new vault.VaultClient({ server: config.httpUrl }).requestCode(identity, target.kind, target.address),
  );
  restoreCode = { identity, request };
  $<HTMLInputElement>('restore-code').value = '';
  // The server answers alike whether or not the address is linked: so does the page.
  say('If that address is linked to the ID, a code is on its way. Each code unlocks one attempt.');
  $('restore-code').focus();
}

/**
 * Opens the vault with the short password (one try; a right one gives the tries back) after the
 * code, and returns the backup its key names.
 */
export async function restoreProtected(config: Config, identity: string): Promise<SafeBackup> {
  const code = $<HTMLInputElement>('restore-code');
  const password = $<HTMLInputElement>('restore-short-password').value;
  const asked = restoreCode;
  if (asked?.identity !== identity)
    throw new Refusal('Ask for a code for this ID first (Send code): each attempt needs one.');
  say('Checking the short password with the vault (this spends one try)…');
  const { backup } = await withVault(async (vault) => {
    try {
      return await restoreProtectedSafeBackup(clients(config, vault), {
        identity,
        password,
        gate: { request: asked.request, code: code.value.trim() },
      });
    } catch (error) {
      // A code the server took is used up by this attempt; a mistyped one may be typed again.
      if (!(error instanceof vault.VaultError && error.code === 'code_invalid')) forgetCode();
      throw error;
    }
  });
  forgetCode();
  return backup;
}

function forgetCode(): void {
  restoreCode = undefined;
  $<HTMLInputElement>('restore-code').value = '';
}
