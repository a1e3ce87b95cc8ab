/**
 * Getting the person's attention: the unread count in the tab title, and a system notification
 * (the Notification API) for a message that arrives while the tab is hidden, only when the person
 * turned it on. Its text says who wrote; the message itself only with a second, separate consent,
 * since a notification shows on a locked screen. The settings are kept in the device store.
 *
 * The "Notifications" panel also holds `#push-slot`, where a Web Push subscription (a separate
 * module) plugs in: that wakes a closed page; this part needs the page open in some tab.
 */
import { $ } from './page.ts';
import type { DeviceStore } from './store.ts';

const TITLE = 'Switchyard';
const SETTINGS = 's:notifications';

interface NotificationSettings {
  readonly notify: boolean;
  readonly preview: boolean;
}

export class Attention {
  private settings: NotificationSettings = { notify: false, preview: false };

  constructor(private readonly store: DeviceStore) {}

  /** Takes the saved settings among the store's records and wires the two checkboxes. */
  load(records: ReadonlyArray<{ name: string; value: unknown }>): void {
    const saved = records.find((record) => record.name === SETTINGS)?.value as
      | Partial<NotificationSettings>
      | undefined;
    const supported = typeof Notification !== 'undefined';
    this.settings = {
      notify: supported && saved?.notify === true && Notification.permission === 'granted',
      preview: saved?.preview === true,
    };
    const notify = $<HTMLInputElement>('notify');
    const preview = $<HTMLInputElement>('notify-preview');
    notify.checked = this.settings.notify;
    preview.checked = this.settings.preview;
    preview.disabled = !this.settings.notify;
    notify.disabled = !supported;
    if (!supported) $('notify-help').textContent = 'This browser has no notifications.';
    notify.addEventListener('change', () => void this.setNotify(notify.checked));
    preview.addEventListener('change', () => void this.save({ ...this.settings, preview: preview.checked }));
  }

  private async setNotify(wanted: boolean): Promise<void> {
    const notify = $<HTMLInputElement>('notify');
    let allowed = wanted;
    if (wanted && Notification.permission !== 'granted')
      allowed = (await Notification.requestPermission()) === 'granted';
    notify.checked = allowed;
    $<HTMLInputElement>('notify-preview').disabled = !allowed;
    $('notify-help').textContent =
      wanted && !allowed
        ? 'The browser did not allow notifications for this page (see its site settings).'
        : '';
    await this.save({ ...this.settings, notify: allowed });
  }

  private async save(settings: NotificationSettings): Promise<void> {
    this.settings = settings;
    await this.store.put(SETTINGS, settings);
  }

  /** Shows the unread count in the tab title. */
  badge(unread: number): void {
    document.title = unread > 0 ? `(${unread}) ${TITLE}` : TITLE;
  }

  /** A notification for a new message, when the tab is hidden and the person turned them on. */
  notify(from: string, text: string, onClick: () => void): void {
    if (!document.hidden || !this.settings.notify || Notification.permission !== 'granted') return;
    const notification = new Notification(`New message from ${from}`, {
      body: this.settings.preview ? text : 'Open Switchyard to read it.',
      tag: 'switchyard-message',
    });
    notification.onclick = () => {
      window.focus();
      onClick();
      notification.close();
    };
  }
}
