/** The body editor: CodeMirror 6 with Liquid highlighting, and insertion at the cursor for the picker. */
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { liquid } from '@codemirror/lang-liquid';
import { syntaxHighlighting, defaultHighlightStyle } from '@codemirror/language';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, lineNumbers } from '@codemirror/view';

export interface BodyEditor {
  view: EditorView;
  value(): string;
  insert(text: string): void;
}

/**
 * `describedBy`: the elements whose text describes the editor (its error and its checks). They are in
 * the page, the editable element in a shadow root, where an aria-describedby cannot name them; so their
 * text is copied, as it changes, into a hidden element of the shadow root that the editable element's
 * aria-describedby names (hidden, it is read only as the description).
 */
export function bodyEditor(host: HTMLElement, initial: string, label: string, onChange: () => void, describedBy: readonly HTMLElement[] = []): BodyEditor {
  // In a shadow root CodeMirror's styles go to a constructed stylesheet (adoptedStyleSheets), not an
  // inline <style> element, which the portal's CSP (style-src 'self') refuses.
  const shadow = host.attachShadow({ mode: 'open' });
  const parent = document.createElement('div');
  const description = document.createElement('div');
  description.id = 'body-description';
  description.hidden = true;
  const describe = () => {
    description.textContent = describedBy.map((element) => element.textContent?.trim() ?? '').filter(Boolean).join(' ');
  };
  const observer = new MutationObserver(describe);
  for (const element of describedBy) observer.observe(element, { childList: true, subtree: true, characterData: true });
  describe();
  shadow.append(parent, description);
  const view = new EditorView({
    parent,
    root: shadow,
    state: EditorState.create({
      doc: initial,
      extensions: [
        lineNumbers(),
        history(),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        liquid(),
        syntaxHighlighting(defaultHighlightStyle),
        EditorView.lineWrapping,
        EditorView.theme({ '&': { minHeight: '10rem', backgroundColor: '#fff', color: '#1b1b1f' }, '&.cm-focused': { outline: '3px solid #f9ab00' }, '.cm-content': { fontFamily: 'ui-monospace, monospace' } }),
        EditorView.contentAttributes.of({ 'aria-label': label, 'aria-multiline': 'true', 'aria-describedby': description.id }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) onChange();
        }),
      ],
    }),
  });
  return {
    view,
    value: () => view.state.doc.toString(),
    insert(text) {
      const { from, to } = view.state.selection.main;
      view.dispatch({ changes: { from, to, insert: text }, selection: { anchor: from + text.length } });
      view.focus();
    },
  };
}
