// Pagefind's Default UI as its documentation sets it up (its CSS and script from the bundle, one
// element); `?bundle=/pagefind-x/` picks another bundle of the same site. The benchmark types
// into its input the way a reader does and waits for the results it renders (the first page of
// results: 5).
const bundle = new URLSearchParams(location.search).get('bundle') ?? '/pagefind/';
const css = document.createElement('link');
css.rel = 'stylesheet';
css.href = `${bundle}pagefind-ui.css`;
document.head.append(css);
const script = document.createElement('script');
script.src = `${bundle}pagefind-ui.js`;
script.onload = () => {
  // eslint-disable-next-line no-undef
  window.benchUi = new PagefindUI({ element: '#search', bundlePath: bundle, showSubResults: true, showImages: false });
  window.benchReady = true;
};
document.head.append(script);
/** Types `question` into the search box. Returns the time it started. */
window.benchAsk = (question) => {
  const input = document.querySelector('.pagefind-ui__search-input');
  const t0 = performance.now();
  input.focus();
  input.value = question;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  return t0;
};
/** The rendered results (title and link), once they are no longer placeholders. */
window.benchResults = () =>
  [...document.querySelectorAll('.pagefind-ui__result')].map((r) => ({
    loading: r.querySelector('.pagefind-ui__loading') !== null,
    href: r.querySelector('.pagefind-ui__result-link')?.getAttribute('href') ?? null,
  }));
window.benchMessage = () => document.querySelector('.pagefind-ui__message')?.textContent ?? '';
