// The modal mode of <docent-ask> (`mode="modal"`): a button that opens the widget in a <dialog>
// (showModal: the page behind is inert), with the focus moved into the question box, kept inside
// the dialog while it is open (Tab and Shift+Tab wrap), and given back to what had it before on
// close. Escape closes it (the dialog's own cancel), as does its Close button. `/`, Ctrl+K and
// Cmd+K open it from anywhere on the page, except while the focus is in a text field, where those
// keys are the reader's typing.
// Must not: search, answer, or know the widget's parts beyond the question box it focuses.
import { el } from './ask-view.js';
import { STRINGS } from './ask-strings.js';
import { Texts } from './ask-i18n.js';

/** Whether a keydown is the shortcut that opens the dialog: `/`, Ctrl+K or Cmd+K. */
export function isShortcut(e) {
  if (e.defaultPrevented || e.isComposing || e.altKey || e.repeat) return false;
  if ((e.ctrlKey || e.metaKey) && !e.shiftKey) return e.key === 'k' || e.key === 'K';
  return e.key === '/' && !e.ctrlKey && !e.metaKey;
}

/** Whether a key event comes from a text field (input, textarea, select, contenteditable), through shadow roots. */
export function inTextField(e) {
  const t = e.composedPath?.()[0] ?? e.target;
  if (!(t instanceof Element)) return false;
  return t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName);
}

/** The focused element, looking into open shadow roots. */
function deepActive() {
  let a = document.activeElement;
  while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
  return a;
}

const FOCUSABLE = 'a[href], button, input, select, textarea, summary, [tabindex]';

export class Modal {
  #dialog;
  #button;
  #input;
  #opener = null;
  #onKey = (e) => {
    if (!this.#dialog.open && isShortcut(e) && !inTextField(e)) {
      e.preventDefault();
      this.open();
    }
  };

  /**
   * Moves the widget's content (every child of `root` but a <style>) into a dialog and puts the
   * button that opens it in its place.
   * @param {ShadowRoot} root the widget's shadow root, already built
   * @param {HTMLInputElement} input the question box (focused on open)
   * @param {{strings?: object, texts?: Texts}} [options] the element's strings and where its
   *   texts are bound (ask-i18n.js); default English
   */
  constructor(root, input, { strings = STRINGS, texts = new Texts() } = {}) {
    this.#input = input;
    const t = (node, prop, key) => texts.bind(node, prop, key, strings);
    const content = [...root.children].filter((c) => c.tagName !== 'STYLE');
    const close = t(el('button', { type: 'button', className: 'ghost close', part: 'close', 'data-testid': 'close' }), 'textContent', 'close');
    this.#dialog = t(el('dialog', { part: 'dialog', 'data-testid': 'dialog' },
      el('div', { className: 'dialog-head' }, close), ...content), 'aria-label', 'dialog');
    this.#button = t(el('button', { type: 'button', className: 'open', part: 'open', 'data-testid': 'open', 'aria-haspopup': 'dialog', 'aria-keyshortcuts': '/ Control+K Meta+K' },
      t(el('span'), 'textContent', 'open'), el('kbd', { 'aria-hidden': 'true', textContent: '/' })), 'title', 'openShortcut');
    root.append(this.#button, this.#dialog);
    this.#button.addEventListener('click', () => this.open());
    close.addEventListener('click', () => this.#dialog.close());
    this.#dialog.addEventListener('close', () => this.#restore());
    this.#dialog.addEventListener('keydown', (e) => {
      // Escape closes, unless something inside used it (the results list closes first).
      if (e.key === 'Escape' && !e.defaultPrevented) {
        e.preventDefault();
        this.#dialog.close();
      } else this.#trap(e);
    });
    // A click on the backdrop (outside the dialog's box) closes it too.
    this.#dialog.addEventListener('click', (e) => {
      if (e.target !== this.#dialog) return;
      const r = this.#dialog.getBoundingClientRect();
      if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) this.#dialog.close();
    });
  }

  get isOpen() {
    return this.#dialog.open;
  }

  /** Listens for the shortcut on the whole page (while the element is connected). */
  listen() {
    document.addEventListener('keydown', this.#onKey);
  }

  unlisten() {
    document.removeEventListener('keydown', this.#onKey);
  }

  open() {
    if (this.#dialog.open) return;
    this.#opener = deepActive();
    this.#dialog.showModal();
    this.#input.focus();
  }

  close() {
    this.#dialog.close();
  }

  /** On close: the focus goes back to what had it before, else to the open button. */
  #restore() {
    const back = this.#opener;
    this.#opener = null;
    if (back && back.isConnected && back !== document.body && typeof back.focus === 'function') back.focus();
    else this.#button.focus();
  }

  /** Tab from the last focusable element goes to the first, Shift+Tab from the first to the last. */
  #trap(e) {
    if (e.key !== 'Tab') return;
    const all = [...this.#dialog.querySelectorAll(FOCUSABLE)].filter((x) => !x.disabled && x.tabIndex >= 0 && x.getClientRects().length > 0);
    if (all.length === 0) return;
    const here = this.#dialog.getRootNode().activeElement;
    const [first, last] = [all[0], all[all.length - 1]];
    if (e.shiftKey && (here === first || !all.includes(here))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (here === last || !all.includes(here))) {
      e.preventDefault();
      first.focus();
    }
  }
}
