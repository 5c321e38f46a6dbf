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

export function bodyEditor(host: HTMLElement, initial: string, label: string, onChange: () => void): BodyEditor {
  // In a shadow root CodeMirror's styles go to a constructed stylesheet (adoptedStyleSheets), not an
  // inline <style> element, which the portal's CSP (style-src 'self') refuses.
  const shadow = host.attachShadow({ mode: 'open' });
  const parent = document.createElement('div');
  shadow.append(parent);
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
        EditorView.contentAttributes.of({ 'aria-label': label, 'aria-multiline': 'true' }),
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
