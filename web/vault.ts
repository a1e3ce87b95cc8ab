/**
 * The vault's part of the page, built as its own file (`vault.js`, web/build.ts) and loaded with a
 * dynamic `import()` only when someone uses "a short password kept in the vault" (web/protect.ts).
 * It is what needs OPAQUE: `@serenity-kit/opaque` carries its WebAssembly inlined as base64
 * (~413 KB), four times the rest of the page, which first visits must not pay for (P11).
 *
 * Only the vault client lives here. The Safe half of a protected backup (client/vault/safe.ts) is in
 * app.js, so its errors are the page's own SafeError; the page tells a vault refusal by this
 * module's `VaultError`.
 */
export { VaultClient, VaultError } from '../client/vault/client.ts';
