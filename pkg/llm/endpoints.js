// The default endpoint of each network provider: what the widget's settings show and what a
// request goes to when no `endpoint` is given, and whether an endpoint is on the reader's own
// machine. Its own module so a page can use them without loading the network client.

/** Default endpoints when `endpoint` is not given. */
export const DEFAULT_ENDPOINTS = Object.freeze({
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
});

/** Whether `endpoint` is a server on the reader's own machine (reachable with the network off). */
export function onThisMachine(endpoint) {
  try {
    return ['localhost', '127.0.0.1', '[::1]'].includes(new URL(endpoint).hostname);
  } catch {
    return false;
  }
}
