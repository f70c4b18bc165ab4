// Every string <docent-ask> shows a reader, in one table with its English defaults; a page
// supplies its own (another language, other wording) for any of them with the `strings`
// attribute or `element.setStrings()` (ask-i18n.js). A value that is a function takes what the
// sentence needs (a page overrides it with a template: `"Loading {file}: {percent}%"`). Labels
// read by assistive technology only (aria-label) are here too: they are visible to those readers.
// Must not: hold markup (every string reaches the DOM as text) or logic.
import { NOT_IN_DOCUMENTS } from './llm/offline.js';

export const STRINGS = Object.freeze({
  label: 'Ask the documentation',
  placeholder: 'Ask a question about these docs',
  ask: 'Ask',
  stop: 'Stop',
  retry: 'Retry',
  answer: 'Answer',
  sources: 'Sources',
  settings: 'Model settings',
  answerWith: 'Answer with',
  providers: { offline: 'Offline (extractive, no LLM)', openai: 'OpenAI-compatible', anthropic: 'Anthropic', local: 'A model in this browser' },
  endpoint: 'Endpoint',
  model: 'Model',
  apiKey: 'API key',
  apiKeyPlaceholder: 'your own key, kept in this browser',
  remember: ' remember on this device',
  prompt: 'Prompt',
  loading: 'Loading…',
  loadingFile: (file, percent) => `Loading ${file ?? 'the index'}: ${percent}%`,
  ready: 'Ready.',
  searching: 'Searching…',
  semanticWait: 'Not found by keyword search; trying semantic search (loading its model)…',
  searchFailed: (message) => `Search failed: ${message}`,
  noPassage: 'No relevant passage found.',
  answering: 'Answering…',
  stopped: 'Stopped.',
  stoppedPartial: 'Stopped; the answer is incomplete.',
  incomplete: (message) => `${message} The answer above is incomplete.`,
  semanticFailed: ' (semantic search could not load)',
  indexFailed: (message) => `Could not load the search index: ${message}`,
  // The quiet note under an answer: how its sources were found.
  paths: { keyword: 'keyword search', hybrid: 'keyword + semantic search' },
  // What the documents do not cover: the core's sentences (the same as the CLI's), unless a page
  // gives its own; `notMentioned` gets the terms joined by ", " (null: the core's sentence).
  notCovered: NOT_IN_DOCUMENTS,
  notMentioned: (terms) => null,
  // Search as you type.
  results: 'Sections that match',
  // Modal mode.
  open: 'Ask the docs',
  openShortcut: 'Press / or Ctrl+K',
  close: 'Close',
  dialog: 'Ask the documentation',
  // Feedback and copy.
  copy: 'Copy',
  copied: 'Copied',
  copyUnavailable: 'Copying is not available here: select the answer and copy it yourself.',
  copyFailed: (message) => `Could not copy: ${message}`,
  copySources: 'Sources:',
  thumbUp: '\u{1F44D}',
  thumbDown: '\u{1F44E}',
  helpful: 'Helpful',
  notHelpful: 'Not helpful',
  thanks: 'Thanks for the feedback.',
  // provider="local": the model that runs in the reader's browser (ask-local.js).
  localAsk: (name, mb) => `This answer is written by ${name}, a model that runs in your browser: a ${mb} MB download, once, then kept in this browser.`,
  localDownload: (mb) => `Download (${mb} MB) and answer`,
  localDownloading: (percent) => `Downloading the model: ${percent}%`,
  localLoading: 'Loading the model…',
  // Follow-up questions.
  newQuestion: 'New question',
  conversation: 'Earlier in this conversation',
  // The saved copy for reading offline (service-worker attribute; ask-offline.js).
  offlineSaving: (percent, size) => `Saving these docs for offline use: ${percent}% of ${size}…`,
  offlineUpdating: (percent, size) => `These docs were updated; saving the new version for offline use: ${percent}% of ${size}…`,
  offlineReady: 'Ready offline: these docs answer without a network.',
  offlineUpdated: 'These docs were updated; the saved copy now holds the new version, ready offline.',
  offlineNow: 'You are offline; answers come from the saved copy of these docs.',
  // What the saved copy still lacks of the answer model the reader agreed to download
  // (provider local): `what` is one of the offlineModel* phrases.
  offlineReadyExcept: (what) => `Ready offline except the answer model: ${what}.`,
  offlineNowExcept: (what) => `You are offline; answers come from the saved copy of these docs, without the answer model: ${what}.`,
  offlineModelLeft: (size) => `${size} still downloading`,
  offlineModelUnknown: 'still downloading',
  offlineModelFailed: 'its download did not finish',
  // The note of an answer made offline from the documents' sentences in place of `model`'s.
  offlineInstead: (model) => `You are offline: this answer is the documents' own sentences, not ${model}'s.`,
  offlineChanged: 'These docs were updated while you were offline: reload the page to read and save the new version.',
  offlineFailed: (message) => `Could not save these docs for offline use: ${message}`,
});
