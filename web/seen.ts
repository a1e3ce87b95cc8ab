/** The "what the server saw" panel: for the last message this browser sent, what left the device. */
import type { SentText } from '../client/chat/messenger.ts';
import { toHex } from '../protocol/bytes.ts';
import { fromB64 } from '../protocol/chat.ts';
import { $ } from './page.ts';

function definitions(listId: string, rows: ReadonlyArray<readonly [string, string]>): void {
  const list = $(listId);
  list.replaceChildren();
  for (const [term, value] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = value;
    list.append(dt, dd);
  }
}

export function showVisibility(sender: string, sent: SentText, text: string): void {
  $('seen-empty').hidden = true;
  $('seen').hidden = false;
  definitions('seen-server', [
    ['Recipient', sent.to],
    ['Sender', `${sender} (from the login)`],
    ['Message id', `${toHex(fromB64(sent.id))} (8 random bytes)`],
    ['Flags', sent.flags === 0 ? '0 (none)' : `0x${sent.flags.toString(16)}`],
    ['Encrypted box', `${sent.boxBytes} bytes`],
    ['Nonce', '24 random bytes'],
    ['Also', 'the time, and your network address (as every server sees it)'],
  ]);
  definitions('seen-device', [
    ['Text', text],
    [
      'Text size',
      `${sent.textBytes} bytes (padded with ${sent.contentBytes - 1 - sent.textBytes} random bytes)`,
    ],
    ['Your secret key', 'never sent'],
    [`Key shared with ${sent.to}`, 'never sent: computed here from your secret key and their public key'],
    ['Session key', 'never sent: each side derives it for this connection only'],
  ]);
}
