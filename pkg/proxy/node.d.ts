// Types of docent/proxy/node (node.js): the proxy on a plain Node server.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Proxy, ProxyEnv } from './proxy.js';

/** A `(req, res)` listener for `http.createServer` around `proxy.fetch`. */
export function nodeListener(proxy: Proxy, env?: ProxyEnv): (req: IncomingMessage, res: ServerResponse) => void;

/** Starts a server (default 127.0.0.1:8787; port 0 picks a free one). */
export function serveProxy(proxy: Proxy, options?: { port?: number; host?: string; env?: ProxyEnv }): Promise<{ server: Server; url: string; close(): Promise<void> }>;
