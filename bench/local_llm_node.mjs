// The local provider's own code, served to bench/local_llm_faithfulness.py one JSON line at a
// time on stdin/stdout, so the benchmark builds prompts and judges answers exactly as the page
// does (pkg/llm/local-prompt.js, pkg/llm/grounding.js).
//   {"op": "prompt", "style", "evidence", "k", "maxChars", "kind", "template", "messages", "sources", "offline", "question"}
//     → {"prompt", "stop", "style"}   (`kind`: the model's turn format; `template`: its file's
//     chat template's format, chatKind, or null)
//   {"op": "judge", "answer", "sources", "question"} → {"raw": judgeAnswer, "checked": {text, kept, dropped, ...judgeAnswer}}
//   {"op": "settings"} → LOCAL_SETTINGS
import { createInterface } from 'node:readline';
import { LOCAL_SETTINGS, localEvidence, localPrompt, formatChat } from '../pkg/llm/local-prompt.js';
import { judgeAnswer, checkAnswer } from '../pkg/llm/grounding.js';

function handle(r) {
  if (r.op === 'settings') return LOCAL_SETTINGS;
  if (r.op === 'prompt') {
    const settings = { ...LOCAL_SETTINGS, ...Object.fromEntries(['style', 'evidence', 'k', 'maxChars'].filter((k) => r[k] != null).map((k) => [k, r[k]])) };
    if (settings.style === 'turns') return { ...formatChat(r.kind, r.messages), evidence: r.sources };
    const evidence = localEvidence({ sources: r.sources }, r.offline, settings);
    // `--style chat` or `completion` forces that one; by default the provider's choice for the
    // model, whose file carries a chat template of the turn format `template` (null: none).
    const kind = r.style === 'chat' ? r.kind : r.style === 'completion' ? null : r.template ?? null;
    const asked = localPrompt(r.question, evidence, kind, r.style === 'chat' ? { ...settings, templated: 'chat' } : settings);
    return { ...asked, evidence };
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
