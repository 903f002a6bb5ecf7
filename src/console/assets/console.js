// The console's only script besides htmx: "Copy" buttons next to code samples and URLs, and
// runs' lists of imports kept open while the live panel polls (at the end).
// <button type="button" data-copy="#id"> copies the text of the element #id.
document.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('[data-copy]') : null;
  if (!button) return;
  const source = document.querySelector(button.getAttribute('data-copy'));
  if (!source) return;
  const text = source.textContent;
  const done = () => {
    const label = button.textContent;
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => selectText(source));
  } else {
    selectText(source);
  }
});

// Without clipboard access (plain HTTP), select the text so that Ctrl+C copies it.
function selectText(element) {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

// The live panel replaces itself every second: a run's list of imports that the user opened
// (a <details> with an id) stays open across the swap.
let openBeforeSwap = [];
document.addEventListener('htmx:beforeSwap', (event) => {
  const target = event.detail.target;
  openBeforeSwap = target ? [...target.querySelectorAll('details[open][id]')].map((d) => d.id) : [];
  if (target && target.matches('details[open][id]')) openBeforeSwap.push(target.id);
});
document.addEventListener('htmx:afterSwap', () => {
  for (const id of openBeforeSwap) {
    const details = document.getElementById(id);
    if (details) details.open = true;
  }
  openBeforeSwap = [];
});
