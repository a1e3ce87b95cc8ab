/** The page's shared helpers: elements by id, the status and error lines, forms, views, IDs. */
import { maxTextBytes } from '../client/chat/content.ts';
import { ChatError } from '../client/chat/session.ts';
import { DirectoryError } from '../client/directory/client.ts';
import { KeyFileError } from '../client/identity-record.ts';
import { DescriptorError } from '../client/media/descriptor.ts';
import { SafeError } from '../client/safe/index.ts';
import { ensureIdentityId, type IdentityId } from '../protocol/identity.ts';

export const ID_PATTERN = /^[0-9A-Z]{8}$/;

const CHAT_TEXT: Record<string, string> = {
  unreachable: 'Could not reach the chat server.',
  server_key_mismatch:
    'The server could not prove the pinned server key: not the server this page was set up for.',
  login_failed: 'The server refused the login: the identity is revoked or the key does not match it.',
  unknown_recipient: 'That recipient is unknown, revoked or deleted. Nothing was sent.',
  mailbox_full: "The recipient's mailbox is full. Nothing was sent; try again later.",
  rate_limited: 'Too many messages: wait a minute and try again.',
  timeout: 'The chat server did not answer in time.',
  closed: 'You went offline before the server confirmed the message.',
  too_large: `The message is too long: at most ${maxTextBytes()} bytes fit in one message. Nothing was sent.`,
  bad_request: "That contact's key is unusable (a weak key no real device makes). Nothing was sent.",
  quota_exceeded: 'You have too many files waiting to be downloaded: try again once they are fetched.',
  storage_refused: 'The storage refused the file. Nothing was sent.',
  not_found: 'The file is no longer on the server.',
};

const DIRECTORY_TEXT: Record<string, string> = {
  unreachable: 'Could not reach the directory.',
  invite_required: 'This server only registers identities with an invite.',
  rate_limited: 'Too many requests: wait a little and try again.',
  not_found: 'No active identity with that ID.',
  code_invalid: 'The code is wrong, expired or used up. Ask for a new one.',
  not_supported: 'This server sends no codes to that kind of address.',
};

/** A refusal already put in words for the person (never with an identifier in them). */
export class Refusal extends Error {
  override readonly name = 'Refusal';
}

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

export function say(text: string): void {
  $('error').textContent = '';
  $('status').textContent = text;
}

export function fail(text: string): void {
  $('status').textContent = '';
  $('error').textContent = text;
}

/** What went wrong, in words for the person (never an identifier from the error). */
export function explain(error: unknown): string {
  if (
    error instanceof Refusal ||
    error instanceof SafeError ||
    error instanceof KeyFileError ||
    error instanceof DescriptorError
  )
    return error.message;
  if (error instanceof ChatError) return CHAT_TEXT[error.code] ?? `The chat server refused (${error.code}).`;
  if (error instanceof DirectoryError)
    return DIRECTORY_TEXT[error.code] ?? `The directory refused the request (${error.code}).`;
  return 'Something went wrong. Try again.';
}

/** Runs `action` with `button` disabled; errors become a message for the person. */
function runFrom(button: HTMLButtonElement | null, action: () => Promise<void>): void {
  $('error').textContent = '';
  if (button) button.disabled = true;
  action()
    .catch((error: unknown) => fail(explain(error)))
    .finally(() => {
      if (button) button.disabled = false;
    });
}

/** Runs a form's action with its submit button disabled; errors become a message for the person. */
export function onSubmit(formId: string, action: () => Promise<void>): void {
  const form = $<HTMLFormElement>(formId);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // The submit button: a form may hold other buttons (type="button") for steps of its own.
    runFrom(form.querySelector<HTMLButtonElement>('button[type="submit"]'), action);
  });
}

/** Runs a button's action (a step inside a form, not its submit) as `onSubmit` runs a form's. */
export function onClick(buttonId: string, action: () => Promise<void>): void {
  const button = $<HTMLButtonElement>(buttonId);
  button.addEventListener('click', () => runFrom(button, action));
}

/** Shows `group` (a `<fieldset>`) and enables its fields, or hides and disables them (unchecked). */
export function showGroup(group: HTMLFieldSetElement, on: boolean): void {
  group.hidden = !on;
  group.disabled = !on;
}

export function show(view: 'setup' | 'unlock' | 'app'): void {
  for (const id of ['setup', 'unlock', 'app']) $(id).hidden = id !== view;
  $('panels').hidden = view !== 'app';
  $('toggle-online').hidden = view !== 'app';
}

/** A new element with a class and text. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text = '',
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

/** A time of day, or a date when not today: for lists. */
export function shortTime(at: number): string {
  const date = new Date(at);
  return date.toDateString() === new Date().toDateString()
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString([], { day: 'numeric', month: 'short' });
}

/** A day as a heading in a conversation: Today, Yesterday, or the date. */
export function dayLabel(at: number): string {
  const day = new Date(at).toDateString();
  if (day === new Date().toDateString()) return 'Today';
  if (day === new Date(Date.now() - 86_400_000).toDateString()) return 'Yesterday';
  return new Date(at).toLocaleDateString([], {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  });
}

export function normaliseId(value: string): IdentityId {
  const id = value.trim().toUpperCase();
  if (!ID_PATTERN.test(id)) throw new KeyFileError('An ID is 8 characters: A–Z and 0–9.');
  return ensureIdentityId(id);
}
