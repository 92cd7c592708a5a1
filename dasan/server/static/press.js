// Press release drafting: brief (YAML) -> POST /v1/press/draft -> preview, style check, HWPX download.
import { $, api, clear, h, setStatus } from './core.js';

let lastUrl = null;

export async function onPressDraft(ev) {
  ev.preventDefault();
  const status = $('#press-status');
  const brief = $('#press-brief').value;
  if (!brief.trim()) { setStatus(status, '요지를 입력하세요.', 'error'); $('#press-brief').focus(); return; }
  $('#press-submit').disabled = true;
  setStatus(status, '초안을 만드는 중…');
  try {
    const r = await api('/v1/press/draft', { method: 'POST', body: { brief, background: $('#press-background').checked } });
    showDraft(r);
    const notes = (r.draft.notes || []).join(' ');
    setStatus(status, `초안을 만들었습니다: ${r.draft.headline || ''}${notes ? ` (${notes})` : ''}`);
  } catch (e) {
    setStatus(status, e.message, 'error');
  } finally {
    $('#press-submit').disabled = false;
  }
}

function showDraft(r) {
  $('#press-result').hidden = false;
  const bytes = Uint8Array.from(atob(r.hwpx_base64), (c) => c.charCodeAt(0));
  if (lastUrl) URL.revokeObjectURL(lastUrl);
  lastUrl = URL.createObjectURL(new Blob([bytes], { type: 'application/hwp+zip' }));
  const a = $('#press-download');
  a.href = lastUrl;
  a.setAttribute('download', r.filename || '보도자료.hwpx');
  const style = clear($('#press-style'));
  if (!r.style.length) style.append(h('li', { class: 'muted' }, '지적 사항이 없습니다.'));
  for (const f of r.style) style.append(h('li', {}, `${f.line}행 [${f.rule}] ${f.message}${f.suggestion ? ` → ${f.suggestion}` : ''}`));
  const sources = clear($('#press-sources'));
  const src = r.draft.sources || [];
  if (!src.length) sources.append(h('li', { class: 'muted' }, '인용한 과거 보도자료가 없습니다.'));
  for (const x of src) sources.append(h('li', {}, x.citation || x.title || ''));
  // The page's CSP forbids inline styles, so the preview's <style> is swapped for the same
  // rules served by /v1/press/preview.css; the frame is sandboxed: no scripts, no same-origin access.
  const css = `<link rel="stylesheet" href="${location.origin}/v1/press/preview.css">`;
  $('#press-preview').srcdoc = r.preview_html.replace(/<style>[\s\S]*?<\/style>/i, css);
}
