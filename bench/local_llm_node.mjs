// The local provider's own code, served to bench/local_llm_faithfulness.py one JSON line at a
// time on stdin/stdout, so the benchmark builds prompts and judges answers exactly as the page
// does (pkg/llm/local-prompt.js, pkg/llm/grounding.js, pkg/llm/local.js's formatChat).
//   {"op": "prompt", "style", "evidence", "k", "maxChars", "kind", "messages", "sources", "offline", "question"}
//     → {"prompt", "stop"}
//   {"op": "judge", "answer", "sources", "question"} → {"raw": judgeAnswer, "checked": {text, kept, dropped, ...judgeAnswer}}
//   {"op": "settings"} → LOCAL_SETTINGS
import { createInterface } from 'node:readline';
import { formatChat } from '../pkg/llm/local.js';
import { LOCAL_SETTINGS, localEvidence, completionPrompt } from '../pkg/llm/local-prompt.js';
import { judgeAnswer, checkAnswer } from '../pkg/llm/grounding.js';

function handle(r) {
  if (r.op === 'settings') return LOCAL_SETTINGS;
  if (r.op === 'prompt') {
    const settings = { ...LOCAL_SETTINGS, ...Object.fromEntries(['style', 'evidence', 'k', 'maxChars'].filter((k) => r[k] != null).map((k) => [k, r[k]])) };
    if (settings.style === 'turns') return { ...formatChat(r.kind, r.messages), evidence: r.sources };
    const evidence = localEvidence({ sources: r.sources }, r.offline, settings);
    return { prompt: completionPrompt(r.question, evidence), stop: [...settings.stop], evidence };
  }
  if (r.op === 'judge') {
    const checked = checkAnswer(r.answer, r.sources, r.question ?? '');
    return { raw: judgeAnswer(r.answer, r.sources), checked: { ...checked, ...judgeAnswer(checked.text, r.sources) } };
  }
  throw new Error(`unknown op ${r.op}`);
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim()) process.stdout.write(`${JSON.stringify(handle(JSON.parse(line)))}\n`);
}
