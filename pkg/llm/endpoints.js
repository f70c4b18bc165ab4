// The default endpoint of each network provider: what the widget's settings show and what a
// request goes to when no `endpoint` is given. Its own module so a page can show them without
// loading the network client.

/** Default endpoints when `endpoint` is not given. */
export const DEFAULT_ENDPOINTS = Object.freeze({
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
});
