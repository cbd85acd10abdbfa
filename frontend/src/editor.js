// The substance page's structure editor: Ketcher with Indigo compiled to WebAssembly, all
// served by the node. The drawing is put into the page's text box as SMILES (a molfile when
// SMILES cannot express it) and the form is submitted as if it had been pasted; the page that
// answers puts the identified structure back into the editor.
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { Editor } from 'ketcher-react';
import { StandaloneStructServiceProvider } from 'ketcher-standalone/dist/binaryWasm';
import 'ketcher-react/dist/index.css';

const host = document.getElementById('structure-editor');

async function drawingAsText(ketcher) {
  try {
    return await ketcher.getSmiles();
  } catch {
    return ketcher.getMolfile();
  }
}

// Ketcher leaves its clipboard helper, its dropdown triangles and some icon buttons unnamed
// (axe: label, button-name): a button inside a titled wrapper (the macromolecule toggle) takes
// the wrapper's title, the others a name in the page's language; also when Ketcher re-renders.
function nameUnnamedControls() {
  host.querySelectorAll('textarea.cliparea:not([aria-label])').forEach((area) => {
    area.setAttribute('aria-label', host.dataset.clipboardLabel);
  });
  host.querySelectorAll('button:not([aria-label]):not([title])').forEach((button) => {
    const titled = button.parentElement && button.parentElement.closest('[title]');
    if (titled && host.contains(titled)) {
      button.setAttribute('aria-label', titled.getAttribute('title'));
    } else if (!button.textContent.trim()) {
      button.setAttribute('aria-label', host.dataset.moreLabel);
    }
  });
}

function wire(ketcher) {
  window.ketcher = ketcher;
  const form = document.getElementById(host.dataset.form);
  const field = document.getElementById(host.dataset.field);
  const button = document.getElementById(host.dataset.button);
  const status = document.getElementById(host.dataset.status);
  button.hidden = false;
  button.addEventListener('click', async () => {
    const text = (await drawingAsText(ketcher)).trim();
    if (!text) {
      status.textContent = host.dataset.emptyMessage;
      return;
    }
    field.value = text;
    field.dispatchEvent(new Event('input'));
    form.requestSubmit();
  });
  status.textContent = '';
  // The structure just identified (typed, pasted, named or drawn), ready to be modified.
  if (host.dataset.structure) ketcher.setMolecule(host.dataset.structure).catch(() => {});
  nameUnnamedControls();
  host.dataset.ready = 'true';
}

if (host) {
  // From the first render, not only once Indigo has loaded: the toolbar is on screen before.
  new MutationObserver(nameUnnamedControls).observe(host, { childList: true, subtree: true });
  const structServiceProvider = new StandaloneStructServiceProvider();
  createRoot(host).render(
    createElement(Editor, {
      staticResourcesUrl: '/static/editor',
      structServiceProvider,
      errorHandler: (message) => {
        document.getElementById(host.dataset.status).textContent = String(message);
      },
      onInit: wire,
    }),
  );
}
