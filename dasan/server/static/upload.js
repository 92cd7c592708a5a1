/* Upload: several files with an XHR progress bar, then per-file results from the job. */

import { $, ApiError, api, clear, errorFromBody, h, hooks, setStatus, sleep, state } from './core.js';
import { openDocument } from './panel.js';

// -- upload ----------------------------------------------------------------------------------
export const FILE_STATUS = {
  uploading: '전송 중',
  queued: '대기 중',
  running: '처리 중',
  processing: '처리 중',
  ingested: '완료',
  unchanged: '이미 등록됨 (변경 없음)',
  empty: '글자를 찾지 못함 (빈 문서)',
  failed: '실패',
};

export function renderUploadResults(files) {
  const list = clear($('#upload-results'));
  for (const f of files) {
    const label = FILE_STATUS[f.status] || f.status;
    const detail = f.status === 'ingested' && f.chunks !== undefined ? ` — 청크 ${f.chunks}개` : '';
    list.append(h('li', { class: `upload-item status-${f.status}`, dataset: { status: f.status, name: f.name } },
      h('span', { class: 'file-name' }, f.name),
      h('span', { class: 'file-status' }, label + detail),
      f.error ? h('p', { class: 'error', role: 'alert' }, f.error) : null,
      f.document_id && (f.status === 'ingested' || f.status === 'unchanged')
        ? h('button', { type: 'button', class: 'btn btn-small', onclick: (e) => openDocument(f.document_id, e.currentTarget) },
          '문서 보기')
        : null));
  }
}

export function sendUpload(form) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/v1/documents');
    if (state.key) xhr.setRequestHeader('Authorization', `Bearer ${state.key}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', (e) => {
      if (!e.lengthComputable) return;
      const pct = Math.round((e.loaded / e.total) * 100);
      $('#upload-progress').value = pct;
      $('#upload-percent').textContent = `${pct}%`;
    });
    xhr.addEventListener('load', () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body || {});
      else {
        const err = errorFromBody(xhr.status, body);
        if (xhr.status === 401) hooks.sessionExpired(err.message);
        reject(err);
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network', '전송 중 연결이 끊겼습니다. 다시 시도하세요.')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'abort', '전송을 취소했습니다.')));
    xhr.send(form);
  });
}


export async function onUpload(ev) {
  ev.preventDefault();
  const input = $('#upload-files');
  const files = Array.from(input.files || []);
  const status = $('#upload-status');
  if (!files.length) {
    setStatus(status, '올릴 파일을 고르세요.', 'error');
    input.focus();
    return;
  }
  const collection = $('#upload-collection').value.trim() || 'default';
  const form = new FormData();
  for (const f of files) form.append('files', f, f.name);
  form.append('collection', collection);
  form.append('level', $('#upload-level').value);
  $('#upload-submit').disabled = true;
  $('#upload-progress').value = 0;
  $('#upload-percent').textContent = '0%';
  renderUploadResults(files.map((f) => ({ name: f.name, status: 'uploading' })));
  setStatus(status, `${files.length}개 파일을 보내는 중…`);
  try {
    const accepted = await sendUpload(form);
    $('#upload-progress').value = 100;
    $('#upload-percent').textContent = '100%';
    if (Array.isArray(accepted.files)) renderUploadResults(accepted.files);
    if (!accepted.job) {
      setStatus(status, '처리가 끝났습니다.');
    } else {
      setStatus(status, '받은 파일을 문서로 만드는 중… (다른 화면을 써도 됩니다)');
      const job = await pollJob(accepted.job);
      const files2 = job.files || [];
      renderUploadResults(files2);
      const failed = files2.filter((f) => f.status === 'failed').length;
      setStatus(status, failed ? `처리가 끝났습니다. ${files2.length}개 중 ${failed}개 실패.`
        : `처리가 끝났습니다 (${files2.length}개).`, failed ? 'error' : 'info');
      input.value = '';
      showChosenFiles();
      hooks.documentsChanged();
    }
  } catch (e) {
    setStatus(status, e.message, 'error');
    renderUploadResults(files.map((f) => ({ name: f.name, status: 'failed', error: e.message })));
  } finally {
    $('#upload-submit').disabled = false;
  }
}

export function showChosenFiles() {
  const files = Array.from($('#upload-files').files || []);
  const names = files.map((f) => f.name);
  $('#upload-chosen').textContent = !files.length ? '고른 파일이 없습니다.'
    : `${files.length}개: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` 외 ${names.length - 5}개` : ''}`;
}

export async function pollJob(jobId) {
  const started = Date.now();
  let delay = 400;
  for (;;) {
    const job = await api(`/v1/jobs/${encodeURIComponent(jobId)}`);
    if (Array.isArray(job.files)) renderUploadResults(job.files);
    if (job.done) return job;
    if (Date.now() - started > 30 * 60 * 1000) {
      throw new ApiError(0, 'timeout', '처리가 너무 오래 걸립니다. 잠시 뒤 문서함에서 확인하세요.');
    }
    await sleep(delay);
    delay = Math.min(delay * 1.5, 3000);
  }
}
