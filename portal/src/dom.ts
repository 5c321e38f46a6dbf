/** DOM helpers: text always goes through textContent, attributes through setAttribute; never innerHTML. */
export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | ((event: Event) => void) | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return element;
}

let ids = 0;
/** A labelled control: every input has a visible label tied to it, and a slot for its error. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, name = label): { wrap: HTMLElement; error: HTMLElement } {
  const id = control.id || `f${++ids}`;
  control.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, role: 'alert', 'data-field': name });
  control.setAttribute('aria-describedby', error.id);
  return { wrap: h('div', { class: 'field' }, h('label', { for: id }, label), control, error), error };
}

export const localTime = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }) : '—');

/** A block of untrusted text (a receiver's answer): shown as text, whatever it holds. */
export const textBlock = (text: string | null | undefined, label: string): HTMLElement => {
  const pre = h('pre', { class: 'text-block', tabindex: '0', 'aria-label': label });
  pre.textContent = text ?? '';
  return pre;
};

/**
 * Runs `work` with `buttons` disabled: a second click while a request is in flight does nothing (a
 * double click must not send it twice: two webhooks, or a 412 against its own first save).
 */
export async function busy<T>(buttons: readonly HTMLButtonElement[], work: () => Promise<T>): Promise<T | undefined> {
  if (buttons.some((button) => button.disabled)) return undefined;
  for (const button of buttons) button.disabled = true;
  try {
    return await work();
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}
