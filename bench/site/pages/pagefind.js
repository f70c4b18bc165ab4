// Pagefind's Default UI as its documentation sets it up; the benchmark types into its input the
// way a reader does and waits for the results it renders (the first page of results: 5).
// eslint-disable-next-line no-undef
window.benchUi = new PagefindUI({ element: '#search', showSubResults: true, showImages: false });
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
window.benchReady = true;
